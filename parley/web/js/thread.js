// The conversation on screen: held in memory, kept on the device as it changes (store.js),
// restored after a reload with any reply that was cut off marked as interrupted.

import * as exporter from "./exporter.js";
import * as store from "./store.js";

/**
 * The one rule for a reply that is over: it is no longer pending; cut short, it is kept
 * marked as interrupted, or dropped when nothing of it had arrived. Returns whether it stays.
 */
function settle(turn, interrupted) {
  delete turn.pending;
  if (!interrupted) return true;
  if (turn.role === "assistant" && !turn.content.trim()) return false;
  turn.interrupted = true;
  return true;
}

export function createThread({ mode, onProblem = () => {}, onReplyOver = () => {} }) {
  let conversation = restore();
  let timer = null;

  function restore() {
    const id = store.currentConversationId();
    const saved = id && store.loadConversation(id);
    if (!saved) return store.createConversation(mode);
    // The page went away mid-reply: keep what had arrived, marked as interrupted.
    saved.turns = saved.turns.filter((turn) => !turn.pending || settle(turn, true));
    return saved;
  }

  function remove(turn) {
    const at = conversation.turns.indexOf(turn);
    if (at >= 0) conversation.turns.splice(at, 1);
  }

  function save() {
    clearTimeout(timer);
    timer = null;
    try {
      store.saveConversation(conversation);
    } catch (err) {
      onProblem(err.message);
    }
  }

  return {
    get current() { return conversation; },
    get turns() { return conversation.turns; },
    save,
    /** Save within a moment: streamed text changes many times a second. */
    saveSoon() {
      if (!timer) timer = setTimeout(save, 250);
    },
    flush() {
      if (timer) save();
    },
    push(turn) {
      conversation.turns.push(turn);
    },
    insertBefore(turn, next) {
      const at = conversation.turns.indexOf(next);
      if (at < 0) conversation.turns.push(turn);
      else conversation.turns.splice(at, 0, turn);
    },
    /** A reply (its turn and its view handle) is over, finished or cut short. */
    endReply({ turn, handle }, { interrupted }) {
      if (settle(turn, interrupted)) {
        handle.setPending(false);
        if (turn.interrupted) handle.setInterrupted();
      } else {
        remove(turn);
        handle.remove();
      }
      // The person's words are in either way: the living brief catches up (brief.js).
      queueMicrotask(onReplyOver);
    },
    /** The finished turns before `turn`, as history for the API. */
    historyBefore(turn) {
      const index = conversation.turns.indexOf(turn);
      return exporter.history({ turns: conversation.turns.slice(0, index) });
    },
    setMode(value) {
      conversation.mode = value;
      save();
    },
    /** Start afresh; the current one is kept unless it was just deleted. */
    startNew(newMode, { keepCurrent = true, projectId = null } = {}) {
      if (keepCurrent) save();
      clearTimeout(timer);
      timer = null;
      conversation = store.createConversation(newMode, projectId);
      store.forgetCurrent();
      return conversation;
    },
    /** Switch to a saved conversation; null when it is gone. */
    open(id) {
      const saved = store.loadConversation(id);
      if (!saved) return null;
      save();
      conversation = saved;
      store.saveConversation(conversation);
      return conversation;
    },
  };
}
