// Scripted stand-ins for the Web Speech API, injected before the page loads.
// Headless Chromium has no recognizer and no voices; these fakes follow the real event
// order (start → audiostart → result… → audioend → end; utterance start → end, and
// Chrome's `error: interrupted/canceled` on cancel) and are driven from the test.
(() => {
  const log = [];
  window.__speechLog = log;

  // ---- Recognition ------------------------------------------------------------------------
  const control = {
    mode: "normal", // "dead": start() never answers (a broken in-app browser)
    active: null,
    instances: 0,
    results: [],
    /** Interim words, then a final result, as a recognizer delivers them. */
    say(text, { final = true } = {}) {
      const rec = control.active;
      if (!rec) throw new Error("the page is not listening");
      const words = text.split(" ");
      for (let i = 1; i <= words.length; i += 1) {
        rec._result(words.slice(0, i).join(" "), false);
      }
      if (final) rec._result(text, true);
    },
    error(code) {
      const rec = control.active;
      if (!rec) throw new Error("the page is not listening");
      rec._fire("error", { error: code, message: "" });
      rec._end();
    },
    /** Chrome ends a continuous session by itself after a silence. */
    endSession() {
      if (control.active) control.active._end();
    },
  };
  window.__recognition = control;

  class FakeRecognition extends EventTarget {
    constructor() {
      super();
      this.continuous = false;
      this.interimResults = false;
      this.lang = "";
      this.maxAlternatives = 1;
      this._state = "idle";
      this._results = [];
      control.instances += 1;
    }

    start() {
      if (this._state !== "idle") throw new DOMException("already started", "InvalidStateError");
      this._state = "starting";
      log.push("recognition.start");
      if (control.mode === "dead") return;
      setTimeout(() => {
        if (this._state !== "starting") return;
        this._state = "listening";
        control.active = this;
        this._fire("start");
        this._fire("audiostart");
      }, 15);
    }

    stop() {
      log.push("recognition.stop");
      if (this._state === "listening" || this._state === "starting") this._end();
    }

    abort() {
      log.push("recognition.abort");
      if (this._state === "idle" || this._state === "ending") return;
      this._fire("error", { error: "aborted", message: "" });
      this._end();
    }

    _result(transcript, isFinal) {
      const last = this._results.at(-1);
      const result = Object.assign([{ transcript, confidence: 0.9 }], { isFinal });
      if (last && !last.isFinal) this._results[this._results.length - 1] = result;
      else this._results.push(result);
      this._fire("result", {
        resultIndex: this._results.length - 1,
        results: this._results,
      });
    }

    _end() {
      if (this._state === "ending" || this._state === "idle") return;
      this._state = "ending";
      setTimeout(() => {
        this._fire("audioend");
        this._fire("end");
        this._state = "idle";
        if (control.active === this) control.active = null;
      }, 15);
    }

    _fire(type, props = {}) {
      const event = new Event(type);
      Object.assign(event, props);
      const handler = this[`on${type}`];
      if (handler) handler.call(this, event);
      this.dispatchEvent(event);
    }
  }

  window.SpeechRecognition = FakeRecognition;
  window.webkitSpeechRecognition = FakeRecognition;

  // ---- Synthesis --------------------------------------------------------------------------
  const spoken = [];
  window.__spoken = spoken;
  const VOICES = [
    { name: "Samantha", lang: "en-US", voiceURI: "com.apple.voice.Samantha", default: true, localService: true },
    { name: "Daniel", lang: "en-GB", voiceURI: "com.apple.voice.Daniel", default: false, localService: true },
  ];

  class FakeUtterance extends EventTarget {
    constructor(text = "") {
      super();
      this.text = text;
      this.voice = null;
      this.lang = "";
      this.rate = 1;
      this.pitch = 1;
      this.volume = 1;
    }
  }

  function fire(target, type, props = {}) {
    const event = new Event(type);
    Object.assign(event, props);
    const handler = target[`on${type}`];
    if (handler) handler.call(target, event);
    target.dispatchEvent(event);
  }

  const synth = new EventTarget();
  Object.assign(synth, {
    speaking: false,
    pending: false,
    paused: false,
    msPerChar: 12, // how long the fake takes to say each character
    // Engines that lose `end`: an utterance with this text starts and never ends (the engine
    // stays `speaking` until cancel()), as iOS Safari after a route change...
    hangOn: null,
    // ...and WebKitGTK's: an utterance handed over while another is speaking, or inside the
    // previous one's `end`, starts and never ends.
    webkitQuirk: false,
    _queue: [],
    _current: null,
    _inEnd: false,
    _voicesReady: false,
    speak(utterance) {
      log.push(`speak:${utterance.text}`);
      utterance._stuck = utterance.text === synth.hangOn
        || (synth.webkitQuirk && (Boolean(synth._current) || synth._inEnd));
      synth._queue.push(utterance);
      synth.pending = synth._queue.length > 0 && synth.speaking;
      if (!synth._current) synth._next();
    },
    cancel() {
      log.push("synthesis.cancel");
      const current = synth._current;
      const queued = synth._queue.splice(0);
      synth._current = null;
      synth.speaking = false;
      synth.pending = false;
      if (current) fire(current, "error", { error: "interrupted" });
      for (const u of queued) fire(u, "error", { error: "canceled" });
    },
    pause() {},
    resume() {},
    getVoices() { return synth._voicesReady ? VOICES : []; },
    _next() {
      const utterance = synth._queue.shift();
      synth._current = utterance || null;
      synth.speaking = Boolean(utterance);
      synth.pending = synth._queue.length > 0;
      if (!utterance) return;
      setTimeout(() => {
        if (synth._current !== utterance) return;
        if (utterance.text.trim()) {
          spoken.push({ text: utterance.text, at: Date.now(), voice: utterance.voice?.name || null });
        }
        fire(utterance, "start");
        if (utterance._stuck) {
          log.push(`stuck:${utterance.text}`);
          return;
        }
        setTimeout(() => {
          if (synth._current !== utterance) return;
          synth._inEnd = true;
          try {
            fire(utterance, "end");
          } finally {
            synth._inEnd = false;
          }
          synth._next();
        }, utterance.text.length * synth.msPerChar);
      }, 10);
    },
  });
  setTimeout(() => {
    synth._voicesReady = true;
    fire(synth, "voiceschanged");
  }, 50);

  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = FakeUtterance;
})();
