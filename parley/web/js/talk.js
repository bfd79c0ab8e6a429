// The step-by-step talk loop: listen → send the turn → speak each sentence as it arrives →
// listen again (hands-free) or wait (push-to-talk). Barge-in stops speech and the request.
// It wires the voice modules, the API and the thread; the DOM is the view's.

import * as api from "./api.js";
import { synthesisSupport } from "./voice/capabilities.js";
import { chooseListener, wantsServer } from "./voice/listener.js";
import { createSpeaker } from "./voice/speaker.js";

// The server-speech modules are fetched only where they are used (no recognizer here, or
// the person chose the server's voice): most phones never need them.
const lazy = {}; // name → a loading Promise, the module, or "failed"
function load(name, whenLoaded) {
  const entry = lazy[name];
  if (entry === undefined) {
    lazy[name] = import(`./voice/${name}.js`).then(
      (module) => { lazy[name] = module; whenLoaded(); },
      () => { lazy[name] = "failed"; whenLoaded(); },
    );
  }
  return entry && !(entry instanceof Promise) && entry !== "failed" ? entry : null;
}
const loading = (name) => lazy[name] instanceof Promise;

const STATUS = {
  idle: "",
  listening: "Listening — pause when you're done",
  thinking: "Thinking…",
  speaking: "Speaking — tap to interrupt",
};
const NEEDS_SETTINGS = ["invalid_api_key", "api_key_required", "access_code_required",
  "upstream_rate_limited"];

/** What the button on an error row offers: Settings for a key problem, else `again`. */
export function errorAction(view, code, again) {
  return NEEDS_SETTINGS.includes(code)
    ? { label: "Open Settings", run: () => view.openSettings() }
    : again;
}

export function createTalk({ view, thread, settings, auth, health, history }) {
  let phase = "idle";
  let listener = null;
  let listenerReason = null;
  let deviceSpeaker = null;
  let serverSpeaker = null;
  let speaker = null;
  let transcribing = false; // the recorder's turn is at the server being transcribed
  let controller = null; // aborts the reply being fetched
  let reply = null; // {turn, handle} of the reply being received
  let heardAt = 0; // when the person's turn ended, for the latency readout
  let lastTurnByVoice = false;
  let spokenText = ""; // what Parley is saying, to tell its own echo from the person

  function setPhase(next) {
    phase = next;
    view.setMicState(next);
    view.setStatus(STATUS[next]);
    if (next !== "listening") view.setInterim("");
  }

  // Speaking -------------------------------------------------------------------------------

  const speakerEvents = {
    onStart() {
      if (heardAt) view.setLatency(performance.now() - heardAt);
      heardAt = 0;
      if (phase === "thinking") setPhase("speaking");
      if (monitoring()) listener.start(); // hear the person over Parley's own voice
    },
    onIdle() {
      if (phase !== "speaking" && phase !== "thinking") return;
      if (controller) return; // the reply is still arriving; more sentences will come
      afterReply();
    },
    onBlocked() {
      view.setStatus("Tap the microphone once so Parley can speak on this device.", "error");
    },
    onError() {
      view.setStatus("A sentence couldn't be played; the text is on screen.", "error");
    },
  };

  /** Whether the server can do `direction` ("stt" or "tts") for this person. */
  function serverCan(direction) {
    const engines = health()?.speech?.[direction] || {};
    return Boolean(engines.local || (engines.openai && auth().apiKey));
  }

  function wantsServerVoice() {
    const choice = settings().speakWith;
    if (choice === "server") return serverCan("tts");
    if (choice === "device") return false;
    return serverCan("tts") && !synthesisSupport();
  }

  function buildSpeaker() {
    deviceSpeaker ||= createSpeaker(speakerEvents);
    let next = deviceSpeaker;
    if (wantsServerVoice()) {
      const module = load("server-speaker", buildSpeaker);
      if (module) {
        serverSpeaker ||= module.createServerSpeaker({ ...speakerEvents, fetchAudio: serverAudio });
        next = serverSpeaker;
      }
    }
    if (speaker && speaker !== next) speaker.cancel();
    speaker = next;
  }

  let audioFormat = null; // worked out on the first sentence the server speaks
  async function serverAudio(text, signal) {
    audioFormat ||= new Audio().canPlayType("audio/mpeg") ? "mp3" : "wav";
    const format = audioFormat;
    const provider = settings().provider === "local" ? "local" : null;
    const response = await api.speech(text, { format, provider }, auth(), signal);
    return response.blob();
  }

  // Listening ------------------------------------------------------------------------------

  function buildListener() {
    listener?.abort();
    const serverCanTranscribe = serverCan("stt");
    const preference = settings().listenWith;
    let recorder = null;
    if (serverCanTranscribe && wantsServer(preference)) {
      recorder = load("recorder", buildListener);
      if (loading("recorder")) return; // chosen again in a moment, once it has loaded
    }
    const chosen = chooseListener({
      preference,
      serverCanTranscribe,
      serverListener: recorder && ((callbacks) => recorder.createServerListener({
        ...callbacks,
        transcribe: (blob, name) => api.transcribe(blob, name, auth(), undefined,
          navigator.language),
        onLevel: (level) => view.setLevel(level),
        onTranscribing: () => {
          transcribing = true;
          setPhase("thinking");
          view.setStatus("Transcribing…");
        },
      })),
      lang: navigator.language || "en-US",
      pauseMs: settings().pauseSeconds * 1000,
      onInterim: heard,
      onTurn: turnEnded,
      onError: listenerFailed,
      onListening() {
        if (phase === "listening") view.setStatus(STATUS.listening);
      },
    });
    listener = chosen.listener;
    listenerReason = chosen.reason;
    view.setMicAvailable(Boolean(listener));
    view.setNotice(listener ? "" : `${listenerReason} You can type instead.`);
  }

  function startListening() {
    if (!listener) {
      view.setStatus(`${listenerReason || "Voice input isn't available here."} Type instead.`,
        "error");
      view.focusComposer();
      return;
    }
    setPhase("listening");
    listener.start();
  }

  // "Interrupt by talking": while Parley speaks the listener keeps running, and only words
  // that are not Parley's own (its echo through the speaker) count as the person talking.
  function monitoring() {
    const s = settings();
    return s.voiceBarge && s.turns === "hands-free" && lastTurnByVoice
      && listener && listener.kind === "browser" && !listener.active;
  }

  function isThePerson(text) {
    const said = new Set(spokenText.toLowerCase().match(/[a-z']+/g) || []);
    const words = text.toLowerCase().match(/[a-z']+/g) || [];
    return words.filter((w) => !said.has(w)).length >= 2;
  }

  function heard(text) {
    if (phase === "speaking" || phase === "thinking") {
      if (!settings().voiceBarge || !isThePerson(text)) return;
      bargeIn({ listen: false, keepListener: true });
      setPhase("listening");
    }
    if (phase === "listening") view.setInterim(text);
  }

  function turnEnded(text) {
    view.setInterim("");
    const transcribed = transcribing;
    transcribing = false;
    if (!transcribed && (phase === "speaking" || phase === "thinking")) {
      // Only Parley's echo was heard: keep watching for the person.
      if (monitoring()) listener.start();
      return;
    }
    if (!text) {
      setPhase("idle");
      view.setStatus("I didn't catch that. Tap the mic and try again.");
      return;
    }
    heardAt = performance.now();
    lastTurnByVoice = true;
    sendTurn(text);
  }

  function listenerFailed(problem) {
    view.setInterim("");
    if (problem.broken) {
      listener = null;
      listenerReason = problem.message;
      view.setMicAvailable(false);
      view.setNotice(problem.message);
    }
    if (phase === "listening" || transcribing) setPhase("idle");
    transcribing = false;
    view.setStatus(problem.message, "error");
  }

  // Replies --------------------------------------------------------------------------------

  function sendTurn(text) {
    if (reply || phase === "speaking") bargeIn({ listen: false });
    const turn = { role: "user", content: text, at: Date.now() };
    thread.push(turn);
    view.appendMessage(turn);
    thread.save();
    fetchReply(turn);
  }

  async function fetchReply(userTurn) {
    const turn = { role: "assistant", content: "", at: Date.now(), pending: true };
    const handle = view.appendMessage(turn);
    handle.setPending(true);
    reply = { turn, handle };
    controller = new AbortController();
    const mine = controller;
    setPhase("thinking");
    speaker.begin();
    spokenText = "";
    let failed = null;
    try {
      const s = settings();
      const body = {
        message: userTurn.content,
        history: thread.historyBefore(userTurn),
        mode: s.mode,
        provider: s.provider === "auto" ? null : s.provider,
      };
      thread.push(turn);
      // With server history on, the server keeps both turns under this conversation's id.
      const keep = history.keep(thread.current);
      const who = keep ? { ...auth(), device: keep.device } : auth();
      if (keep) body.sessionId = keep.sessionId;
      for await (const { event, data } of api.conversation(body, who, mine.signal)) {
        if (event === "delta") {
          turn.content += data.text;
          handle.setText(turn.content);
          view.scrollToEnd();
          thread.saveSoon();
        } else if (event === "sentence") {
          spokenText += ` ${data.text}`;
          speaker.say(data.text);
        } else if (event === "done") {
          turn.content = data.reply;
          handle.setText(turn.content);
          turn.provider = data.provider;
        } else if (event === "error") {
          failed = new api.ApiError(0, data.code, data.message);
        }
      }
    } catch (err) {
      if (mine.signal.aborted) return; // barge-in or a new conversation: already handled
      failed = err instanceof api.ApiError ? err
        : new api.ApiError(0, "unknown", "Something went wrong. Please try again.");
    } finally {
      if (controller === mine) controller = null;
    }
    delete turn.pending;
    handle.setPending(false);
    reply = null;
    if (failed) {
      replyFailed(userTurn, turn, handle, failed);
      return;
    }
    thread.save();
    speaker.end(); // may finish the reply at once (nothing left to say)
    const stillReplying = phase === "thinking" || phase === "speaking";
    if (stillReplying && (!speaker.supported || !speaker.speaking)) afterReply();
  }

  /** A reply cut short: kept as far as it got (marked interrupted), or gone if empty. */
  function cutShort({ turn, handle }) {
    if (turn.content.trim()) {
      turn.interrupted = true;
      handle.setInterrupted();
    } else {
      thread.remove(turn);
      handle.node.remove();
    }
  }

  function replyFailed(userTurn, turn, handle, error) {
    speaker.end();
    cutShort({ turn, handle });
    thread.save();
    const again = { label: "Try again", run: () => retry(userTurn) };
    view.appendError(error.message, errorAction(view, error.code, again));
    setPhase("idle");
    view.setStatus(error.message, "error");
  }

  function retry(userTurn) {
    if (phase !== "idle") return;
    heardAt = performance.now();
    fetchReply(userTurn);
  }

  function afterReply() {
    spokenText = "";
    if (listener?.active) listener.abort(); // drop what the echo monitor heard
    const again = settings().turns === "hands-free" && lastTurnByVoice && listener;
    setPhase("idle");
    if (again) startListening();
  }

  /** Stop speaking and fetching now; keep the partial reply, marked as interrupted. */
  function bargeIn({ listen, keepListener = false }) {
    if (!keepListener && listener?.active) listener.abort();
    speaker.cancel();
    if (controller) {
      controller.abort();
      controller = null;
    }
    if (reply) {
      delete reply.turn.pending;
      reply.handle.setPending(false);
      cutShort(reply);
      reply = null;
    } else {
      // The reply had fully arrived and was being spoken.
      const last = thread.turns.at(-1);
      if (last && last.role === "assistant") {
        last.interrupted = true;
        view.renderConversation(thread.current);
      }
    }
    thread.save();
    setPhase("idle");
    if (listen) startListening();
  }

  buildSpeaker();

  return {
    /** The talk button: start, finish the turn now, or barge in. */
    tap() {
      speaker.unlock(); // inside the tap: iOS allows speech only from a gesture
      if (phase === "idle") startListening();
      else if (phase === "listening") listener?.finish();
      else bargeIn({ listen: true });
    },
    /** Push-to-talk: pressed... */
    press() {
      speaker.unlock();
      if (phase === "thinking" || phase === "speaking") bargeIn({ listen: false });
      if (phase === "idle") startListening();
    },
    /** ...and released. */
    release() {
      if (phase === "listening") listener?.finish();
    },
    send(text) {
      speaker.unlock();
      if (phase === "listening") listener?.abort();
      heardAt = performance.now();
      lastTurnByVoice = false;
      sendTurn(text);
    },
    /** Stop everything at once (new conversation, switching, a call starting). */
    stop() {
      listener?.abort();
      speaker.cancel();
      controller?.abort();
      controller = null;
      if (reply) bargeIn({ listen: false });
      setPhase("idle");
    },
    /** Settings or server capabilities changed: pick the voice and the ear again. */
    configure() {
      buildSpeaker();
      speaker.voice = settings().voice;
      speaker.rate = settings().rate;
      buildListener();
    },
    onVoices(listener_) { deviceSpeaker.onVoices(listener_); },
  };
}
