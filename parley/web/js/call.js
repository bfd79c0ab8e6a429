// Realtime calls (speech-to-speech with OpenAI over WebRTC): starting and ending one, and
// putting its transcripts (and pictures: call-pictures.js) into the same thread as
// step-by-step turns, so export, brief and history just work. The call itself lives in
// voice/realtime.js.

import * as exporter from "./exporter.js";
import { errorAction, PHASE_STATUS } from "./status.js";
import { realtimeSupport } from "./voice/capabilities.js";

// The WebRTC code is fetched only when someone makes a call: most turns never need it.
const loadRealtime = () => import("./voice/realtime.js");
// ...and the pictures' part of a call, only when a picture meets a call.
const loadPictures = () => import("./call-pictures.js");

// In a call Parley listens all the time: no pause is needed to hand over.
const status = (state) => PHASE_STATUS[state === "listening" ? "callListening" : state];

export function createCalls({ view, thread, settings, auth, openaiReady, history, attachments }) {
  let call = null; // the call, while one is on
  let callId = 0; // bumps when a call is let go, so its late callbacks are ignored
  let phase = "connecting";
  let replies = new Map(); // response id → {turn, handle}
  let pictures = null; // call-pictures.js, once a picture met a call
  let queue = Promise.resolve(); // pictures and typed turns go into the call in order

  function inOrder(work) {
    queue = queue.then(work).catch(() => {
      view.setStatus("That couldn't go into the call. Try again.", "error");
    });
  }

  /** The pictures waiting in the composer go into the call (in order with typed turns). */
  async function showPictures() {
    if (!attachments.count) return;
    pictures ||= (await loadPictures()).createCallPictures({
      view, thread, attachments, history, current: () => call,
    });
    await pictures.show();
  }

  function setState(state) {
    const connected = phase === "connecting" && state !== "connecting";
    phase = state;
    // The contract's four talk-button states: connecting shows as thinking.
    view.setMicState(state === "connecting" ? "thinking" : state);
    view.setStatus(status(state));
    if (state !== "listening") view.setInterim("");
    if (connected && attachments.count) inOrder(showPictures); // attached while connecting
  }

  function playAudio(stream) {
    view.playAudio(stream).catch((err) => {
      // Any other rejection is a play() cut short by hang-up: nothing to say.
      if (err && err.name === "NotAllowedError") {
        view.setStatus("Tap the microphone once so Parley can be heard on this device.", "error");
      }
    });
  }

  function userSaid(text, beforeReply) {
    const next = beforeReply && replies.get(beforeReply);
    const ahead = next && thread.turns.includes(next.turn) ? next : null;
    // Words after a picture join the turn that shows it; pictures that waited for room go.
    if (pictures?.join(text, ahead?.turn)) {
      inOrder(showPictures);
      return;
    }
    const turn = { role: "user", content: text, at: Date.now() };
    // A transcript can arrive after the reply to it has begun: it goes before that reply.
    if (ahead) {
      thread.insertBefore(turn, ahead.turn);
      view.appendMessage(turn, ahead.handle);
    } else {
      thread.push(turn);
      view.appendMessage(turn);
    }
    thread.save();
    // The server keeps turns in the order they reach it: a transcript that arrives after its
    // reply has ended lands after it there (the device's order stays right).
    history.append(thread.current, turn);
  }

  function replied(id, text) {
    let reply = replies.get(id);
    if (!reply) {
      const turn = { role: "assistant", content: "", at: Date.now(), pending: true,
        provider: "openai-realtime" };
      thread.push(turn);
      reply = { turn, handle: view.appendMessage(turn) };
      reply.handle.setPending(true);
      replies.set(id, reply);
    }
    reply.turn.content = text;
    reply.handle.setText(text);
    view.scrollToEnd();
    thread.saveSoon();
  }

  function replyEnded(id, { interrupted }) {
    const reply = replies.get(id);
    if (!reply) return;
    thread.endReply(reply, { interrupted });
    thread.save();
    history.append(thread.current, reply.turn);
  }

  function ended(problem) {
    call = null;
    pictures?.reset();
    view.setCallActive(false);
    view.setMicState("idle");
    view.setInterim("");
    if (!problem) {
      view.setStatus("Call ended.");
      return;
    }
    view.setStatus(problem.message, "error");
    if (!thread.turns.length) return; // the status line says it; the welcome stays calm
    const again = { label: "Call again", run: () => { view.unlockAudio(); start(); } };
    view.appendError(problem.message,
      errorAction(() => view.openSettings(), problem.code, again));
  }

  async function start() {
    const id = ++callId;
    const live = (fn) => (...args) => { if (id === callId) fn(...args); };
    replies = new Map();
    pictures?.reset();
    view.setCallActive(true);
    setState("connecting");
    const s = settings();
    const session = { mode: s.mode };
    if (s.realtimeVoice) session.voice = s.realtimeVoice;
    // Until the call's code has loaded, a stand-in lets a second tap hang up.
    const loading = {
      state: "connecting",
      hangUp() { callId += 1; ended(null); },
      interrupt() {},
      sendText: () => false,
    };
    call = loading;
    let startCall;
    try {
      ({ startCall } = await loadRealtime());
    } catch {
      if (call === loading) {
        ended({ code: "network", message: "Realtime couldn't load. Check your connection and tap again." });
      }
      return;
    }
    if (call !== loading) return; // hung up while loading
    call = startCall({
      session,
      auth: auth(),
      history: exporter.history(thread.current),
      on: {
        state: live(setState),
        interim: live((text) => view.setInterim(text)),
        user: live(userSaid),
        reply: live(replied),
        replyEnd: live(replyEnded),
        latency: live((ms) => view.setLatency(ms)),
        audio: live(playAudio),
        notice: live((text) => view.setStatus(text || status(phase), text ? "error" : "info")),
        end: live(ended),
      },
    });
  }

  return {
    get active() { return Boolean(call); },
    /** Realtime is chosen, possible in this browser, and there is a key for it. */
    get chosen() {
      return settings().style === "realtime" && openaiReady() && realtimeSupport().ok;
    },
    get ready() { return openaiReady() && realtimeSupport().ok; },
    hint() {
      const support = realtimeSupport();
      if (!support.ok) return support.reason;
      if (!openaiReady()) {
        return "Realtime needs your OpenAI API key (or the access code). Add it below to turn it on.";
      }
      return settings().style === "realtime"
        ? "A live call with OpenAI's voice model: quicker turns, and you can talk over it. It costs more per minute."
        : "Parley listens, answers in a few sentences, then listens again. Works with any model.";
    },
    /** The talk button during realtime: call, interrupt the model, or hang up. */
    tap() {
      view.unlockAudio(); // inside the tap: the call's <audio> plays much later (iOS)
      if (!call) start();
      else if (call.state === "speaking" || call.state === "thinking") call.interrupt();
      else call.hangUp();
    },
    /** Typed text goes into the call, after any waiting pictures; false while connecting. */
    send(text) {
      const live = call;
      if (!live || live.state === "connecting") return false;
      inOrder(async () => {
        await showPictures();
        if (call === live) live.sendText(text);
      });
      return true;
    },
    /** Pictures just attached: into the call now (or once it connects). */
    showPictures() {
      inOrder(showPictures);
    },
    hangUp() {
      call?.hangUp();
    },
    /** Let the call go without touching the thread further (switching or deleting it). */
    drop() {
      if (!call) return;
      const ending = call;
      call = null;
      pictures?.reset();
      callId += 1;
      ending.hangUp();
      for (const reply of replies.values()) {
        if (reply.turn.pending) thread.endReply(reply, { interrupted: true });
      }
      view.playAudio(null);
      view.setCallActive(false);
    },
  };
}
