// Which ear and which voice Parley uses here: the browser's recognizer or the recorder
// (the server transcribes), the device's voices or the server's. The recorder and the
// server voice are fetched only where they are used: most phones never need them.

import { recognitionSupport, synthesisSupport } from "./capabilities.js";
import { chooseListener, wantsServer } from "./listener.js";
import { createSpeaker } from "./speaker.js";

// How a turn came in, as the voice-to-voice clock names it (timing.js), by listener kind.
const PATHS = { browser: "browser", server: "recorder", stream: "stream" };

/** Whether this browser can stream the microphone to the server's live ear. */
function canStream() {
  return Boolean(window.WebSocket && window.AudioWorkletNode
    && (window.AudioContext || window.webkitAudioContext));
}

/**
 * `serverAudio(text, signal)` → Blob, `transcribe(blob, name)` → {text} and `listenSocket()`
 * → WebSocket reach the server; `speakerEvents` and `listenerEvents` are the talk loop's
 * callbacks; `onListenerChange()` runs when the ear changes (chosen again, or it broke).
 * `pauses` keeps what turn-end.js learns of this person's pauses on the device; `held()`
 * says the person holds the floor (a long press on the mic).
 */
export function createEngines({ settings, auth, health, serverAudio, transcribe, listenSocket,
  listenStart, pauses, held, speakerEvents, listenerEvents, onListenerChange }) {
  const lazy = {}; // name → a loading Promise, the module, or "failed"
  let deviceSpeaker = null;
  let serverSpeaker = null;
  let speaker = null;
  let listener = null;
  let listenerReason = null;

  /** The module if it has loaded; else starts loading it and calls `whenLoaded` after. */
  function load(name, whenLoaded) {
    const entry = lazy[name];
    if (entry === undefined) {
      lazy[name] = import(`./${name}.js`).then(
        (module) => { lazy[name] = module; whenLoaded(); },
        () => { lazy[name] = "failed"; whenLoaded(); },
      );
    }
    return entry && !(entry instanceof Promise) && entry !== "failed" ? entry : null;
  }
  const loading = (name) => lazy[name] instanceof Promise;

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

  function chooseSpeaker() {
    deviceSpeaker ||= createSpeaker(speakerEvents);
    let next = deviceSpeaker;
    if (wantsServerVoice()) {
      const module = load("server-speaker", chooseSpeaker);
      if (module) {
        serverSpeaker ||= module.createServerSpeaker({ ...speakerEvents, fetchAudio: serverAudio });
        next = serverSpeaker;
      }
    }
    if (speaker && speaker !== next) speaker.cancel();
    speaker = next;
    speaker.voice = settings().voice;
    speaker.rate = settings().rate;
  }

  // One per person: what it learns of their pauses is kept on the device after each turn.
  // Fetched just after start-up, not with the page: the first paint does not wait for it.
  let turnEnd = null;
  function patience() {
    const { createTurnEnd } = lazy["turn-end"];
    const lang = (navigator.language || "en").toLowerCase();
    const sentenceMs = Math.round(settings().pauseSeconds * 1000);
    turnEnd = createTurnEnd({
      lang: lang.startsWith("en") ? "en" : lang,
      sentenceMs,
      sentenceMinMs: Math.min(1000, sentenceMs),
      sentenceMaxMs: Math.max(3000, sentenceMs),
      stats: pauses.load(),
    });
    return turnEnd;
  }

  function chooseEar() {
    listener?.abort();
    const serverCanTranscribe = serverCan("stt");
    const preference = settings().listenWith;
    // On the server's side: a live ear (a real VAD, and words at each pause) where the
    // server and this browser can stream; else record the turn and send it whole.
    if (!load("turn-end", chooseEar)) {
      listener = null;
      listenerReason = lazy["turn-end"] === "failed"
        ? "Voice input couldn't load. Reload the page."
        : "One moment: Parley is getting ready to listen.";
      onListenerChange();
      return; // chosen again in a moment, once it has loaded
    }
    const live = Boolean(health()?.speech?.stt?.stream) && canStream();
    const name = live ? "streamer" : "recorder";
    let recorder = null;
    if (serverCanTranscribe && wantsServer(preference)) {
      recorder = load(name, chooseEar);
      if (loading(name)) return; // chosen again in a moment, once it has loaded
    }
    let recognizer = null;
    if (recognitionSupport().ok && preference !== "server") {
      recognizer = load("recognizer", chooseEar);
      if (loading("recognizer")) return;
    }
    const ear = patience();
    const serverEvents = {
      turnEnd: ear, held, onLevel: listenerEvents.onLevel,
      onTranscribing: listenerEvents.onTranscribing,
    };
    const chosen = chooseListener({
      preference,
      serverCanTranscribe,
      serverListener: recorder && ((callbacks) => (live
        ? recorder.createStreamListener({ ...callbacks, ...serverEvents,
          connect: listenSocket, startMessage: listenStart })
        : recorder.createServerListener({ ...callbacks, ...serverEvents, transcribe }))),
      browserListener: recognizer && ((callbacks) => recognizer.createBrowserListener(callbacks)),
      lang: navigator.language || "en-US",
      turnEnd: ear,
      held,
      onInterim: listenerEvents.onInterim,
      onTurn(text) {
        pauses.save(turnEnd.exportStats());
        const path = PATHS[listener?.kind] || "browser";
        const spoke = turnEnd.spokeUntil;
        // The live ear counts in audio time; the clock in page time (performance.now()).
        const spokeUntil = spoke == null ? undefined : listener?.pageTime?.(spoke) ?? spoke;
        listenerEvents.onTurn(text, { path, spokeUntil });
      },
      onError: listenerEvents.onError,
      onListening: listenerEvents.onListening,
    });
    listener = chosen.listener;
    listenerReason = chosen.reason;
    onListenerChange();
  }

  chooseSpeaker();

  return {
    get speaker() { return speaker; },
    get listener() { return listener; },
    get listenerReason() { return listenerReason; },
    /** No ear yet because its module is still on the way (not because there is none). */
    get listenerLoading() {
      return !listener && Object.values(lazy).some((entry) => entry instanceof Promise);
    },
    /** Is this a backchannel ("mm-hmm", a laugh), not an interruption? (turn-end.js) */
    isBackchannel(words, speechMs) {
      const module = lazy["turn-end"];
      return module?.isBackchannel ? module.isBackchannel(words, speechMs)
        : { backchannel: false, reason: "not loaded yet" };
    },
    /** The ear broke for good here (e.g. permission refused for the site). */
    dropListener(reason) {
      listener = null;
      listenerReason = reason;
    },
    /** Settings or server capabilities changed: pick the voice and the ear again. */
    configure() {
      chooseSpeaker();
      chooseEar();
    },
    onVoices(callback) { deviceSpeaker.onVoices(callback); },
  };
}
