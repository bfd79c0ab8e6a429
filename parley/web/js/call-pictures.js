// Pictures shown during a realtime call: into the call at once (each re-encoded to fit one data
// channel message), shown with the person's current turn and kept in the thread like a
// step-by-step turn's. Fetched the first time a picture meets a call.

import { PER_TURN } from "./attachments.js";

// Short enough for two lines of the status line on a phone.
const SAY = {
  waiting: "The picture goes into the call once it connects.",
  shown: (n) => `${n === 1 ? "Picture" : `${n} pictures`} sent into the call: talk about `
    + `${n === 1 ? "it" : "them"}.`,
  blind: (model) => `${model || "This realtime model"} can't see pictures. Describe it, or `
    + "send it step by step after the call.",
  full: `Up to ${PER_TURN} pictures a turn: talk about these first.`,
  unreadable: "Parley couldn't read that picture here, so the call didn't get it.",
  undelivered: "That picture couldn't go into the call; it's kept in the conversation.",
};

/** `current()` is the call on now (voice/realtime.js's), or null. */
export function createCallPictures({ view, thread, attachments, history, current }) {
  // The person's turn that holds the pictures shown in this call, until their words join it.
  let shown = null; // {turn, handle}

  return {
    /** The waiting pictures go into the call on now and show with the person's turn. */
    async show() {
      const live = current();
      if (!live || !attachments.count) return;
      if (live.state === "connecting") {
        view.setStatus(SAY.waiting);
        return;
      }
      if (!live.vision) {
        view.setStatus(SAY.blind(live.model), "error");
        return;
      }
      const room = PER_TURN - (shown ? shown.turn.images.length : 0);
      if (room <= 0) {
        view.setStatus(SAY.full, "error");
        return;
      }
      const conversation = thread.current;
      const { fit } = await import("./pictures.js");
      const encode = (blob) => fit(blob, live.imageRoom).catch(() => null);
      const taken = await attachments.take(conversation.id, { limit: room, encode });
      if (!taken || thread.current !== conversation) return; // switched away meanwhile
      const urls = taken.urls.filter(Boolean);
      const delivered = current() === live && live.sendImages(urls);
      if (!shown) {
        const turn = { role: "user", content: "", at: Date.now(), images: [] };
        thread.push(turn);
        shown = { turn, handle: view.appendMessage(turn) };
      }
      shown.turn.images.push(...taken.ids);
      thread.save();
      shown.handle.setImages(await attachments.urls(shown.turn.images));
      view.scrollToEnd();
      if (current() !== live) { // the call ended meanwhile: kept in the thread all the same
        shown = null;
        return;
      }
      if (!delivered) view.setStatus(SAY.undelivered, "error");
      else if (urls.length < taken.urls.length) view.setStatus(SAY.unreadable, "error");
      else if (attachments.count) view.setStatus(SAY.full, "error");
      else view.setStatus(SAY.shown(urls.length));
    },

    /**
     * The person's words join the turn showing pictures, unless they belong before `before`
     * (a reply's turn) that the pictures came after. True when they joined it.
     */
    join(text, before) {
      const at = (turn) => thread.turns.indexOf(turn);
      if (!shown || (before && at(before) < at(shown.turn))) return false;
      const { turn, handle } = shown;
      shown = null;
      turn.content = text;
      handle.setText(text);
      thread.save();
      history.append(thread.current, turn);
      return true;
    },

    /** A call started or ended: the next picture starts a turn of its own. */
    reset() {
      shown = null;
    },
  };
}
