// Which ear and which voice Parley uses here: the browser's recognizer or the recorder
// (the server transcribes), the device's voices or the server's. The recorder and the
// server voice are fetched only where they are used: most phones never need them.

import { synthesisSupport } from "./capabilities.js";
import { chooseListener, wantsServer } from "./listener.js";
import { createSpeaker } from "./speaker.js";

/**
 * `serverAudio(text, signal)` → Blob and `transcribe(blob, name)` → {text} reach the server;
 * `speakerEvents` and `listenerEvents` are the talk loop's callbacks; `onListenerChange()`
 * runs when the ear changes (chosen again, or it broke).
 */
export function createEngines({ settings, auth, health, serverAudio, transcribe,
  speakerEvents, listenerEvents, onListenerChange }) {
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

  function chooseEar() {
    listener?.abort();
    const serverCanTranscribe = serverCan("stt");
    const preference = settings().listenWith;
    let recorder = null;
    if (serverCanTranscribe && wantsServer(preference)) {
      recorder = load("recorder", chooseEar);
      if (loading("recorder")) return; // chosen again in a moment, once it has loaded
    }
    const chosen = chooseListener({
      preference,
      serverCanTranscribe,
      serverListener: recorder && ((callbacks) => recorder.createServerListener({
        ...callbacks, transcribe, onLevel: listenerEvents.onLevel,
        onTranscribing: listenerEvents.onTranscribing,
      })),
      lang: navigator.language || "en-US",
      pauseMs: settings().pauseSeconds * 1000,
      onInterim: listenerEvents.onInterim,
      onTurn: listenerEvents.onTurn,
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
