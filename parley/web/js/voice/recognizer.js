// Listening with the browser's own speech recognizer (Web Speech API).
//
// A "listener" hears one turn at a time: start() opens a turn, onInterim reports live
// words, onTurn delivers the finished text, finish() ends the turn now, abort() drops it.
// The server-side recorder implements the same shape (see recorder.js).

const ERRORS = {
  "not-allowed": {
    message: "Parley needs the microphone. Allow it in the browser's site settings, then tap again.",
    fatal: true,
  },
  "service-not-allowed": {
    message: "Speech recognition is off on this device (on iPhone: Settings › General › "
      + "Keyboard › Enable Dictation). You can type instead.",
    fatal: true,
    broken: true,
  },
  "no-speech": { message: "I didn't hear anything. Tap the mic and try again.", fatal: false },
  network: {
    message: "Speech recognition couldn't reach its service. Check your connection, or type.",
    fatal: true,
  },
  aborted: { message: "Listening was interrupted. Tap the mic to try again.", fatal: false },
  "audio-capture": {
    message: "No microphone was found. Check it is connected and allowed.", fatal: true,
  },
  "language-not-supported": {
    message: "This browser can't recognise this language. You can type instead.", fatal: true,
    broken: true,
  },
};

// iOS sometimes never fires `end` after stop(); Chrome restarts with a beep on Android.
const END_WATCHDOG_MS = 1500;
// No `start`/`audiostart` this long after start(): the recognizer is not really there.
const START_WATCHDOG_MS = 2500;
const MAX_RESTARTS = 20;

/**
 * `turnEnd` (voice/turn-end.js) decides when the turn is over from the words and their
 * timing; while `held()` says the person holds the floor, no pause ends it.
 */
export function createBrowserListener({ lang = navigator.language || "en-US", turnEnd,
  held = () => false, onInterim = () => {}, onTurn = () => {}, onError = () => {},
  onListening = () => {} } = {}) {
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  let engine = null;
  let open = false; // a turn is in progress
  let finalText = "";
  let interimText = "";
  let pauseTimer = null;
  let startTimer = null;
  let endTimer = null;
  let restarts = 0;

  const text = () => `${finalText} ${interimText}`.replace(/\s+/g, " ").trim();

  function clearTimers() {
    clearTimeout(pauseTimer);
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    pauseTimer = startTimer = endTimer = null;
  }

  // Designers pause mid-thought: after "and..." the turn waits seconds, after "what do you
  // think?" a third of one. turn-end.js says how long, from the words and their timing.
  function armPause() {
    clearTimeout(pauseTimer);
    const decision = turnEnd.decide(performance.now());
    if (decision.end && !held()) {
      finish();
      return;
    }
    pauseTimer = setTimeout(armPause, held() ? 250 : Math.max(50, decision.inMs ?? 250));
  }

  function release(rec) {
    if (!rec) return;
    rec.onstart = rec.onaudiostart = rec.onresult = rec.onerror = rec.onend = null;
    if (engine === rec) engine = null;
  }

  function launch() {
    const rec = new Recognition();
    engine = rec;
    rec.lang = lang;
    rec.continuous = true;
    rec.interimResults = true;
    rec.maxAlternatives = 1;
    let started = false;
    const markStarted = () => {
      if (started) return;
      started = true;
      clearTimeout(startTimer);
      onListening();
    };
    rec.onstart = markStarted;
    rec.onaudiostart = markStarted;
    rec.onresult = (event) => {
      markStarted();
      let interim = "";
      for (let i = event.resultIndex; i < event.results.length; i += 1) {
        const result = event.results[i];
        if (result.isFinal) finalText += ` ${result[0].transcript}`;
        else interim += ` ${result[0].transcript}`;
      }
      interimText = interim;
      if (text()) {
        const closed = event.results[event.results.length - 1]?.isFinal ?? false;
        turnEnd.heard(text(), performance.now(), { final: closed });
        onInterim(text());
        armPause();
      }
    };
    rec.onerror = (event) => {
      const known = ERRORS[event.error] || {
        message: "Listening stopped unexpectedly. Tap the mic to try again.", fatal: false,
      };
      if (event.error === "aborted" && !open) return; // our own abort()
      if (event.error === "no-speech" && open) return; // Chrome's silence cut-off: restart
      if (known.fatal || event.error === "aborted") {
        const wasOpen = open;
        open = false;
        clearTimers();
        release(rec);
        try { rec.abort(); } catch { /* already stopped */ }
        if (wasOpen) onError({ code: event.error, ...known });
      }
    };
    rec.onend = () => {
      clearTimeout(endTimer);
      release(rec);
      // Chrome ends a continuous session on its own after a silence or a network blip;
      // the person is still thinking, so carry on with the same turn.
      if (open && restarts < MAX_RESTARTS) {
        restarts += 1;
        launch();
      } else if (open) {
        finish();
      }
    };
    startTimer = setTimeout(() => {
      if (started || engine !== rec) return;
      open = false;
      release(rec);
      try { rec.abort(); } catch { /* never started */ }
      onError({
        code: "unresponsive",
        message: "Voice input didn't start in this browser. Type below, or try another browser.",
        fatal: true, broken: true,
      });
    }, START_WATCHDOG_MS);
    try {
      rec.start();
    } catch (err) {
      open = false;
      clearTimers();
      release(rec);
      onError({ code: "start-failed", message: "Voice input couldn't start. Tap again.", fatal: false });
    }
  }

  function start() {
    if (open) return;
    open = true;
    finalText = "";
    interimText = "";
    restarts = 0;
    turnEnd.start();
    launch();
  }

  /** End the turn now and deliver what was heard (nothing heard: no turn). */
  function finish() {
    if (!open) return;
    open = false;
    const said = text();
    clearTimers();
    const rec = engine;
    if (rec) {
      try { rec.stop(); } catch { /* already stopping */ }
      endTimer = setTimeout(() => release(rec), END_WATCHDOG_MS);
    }
    onTurn(said);
  }

  /** Drop the turn: stop listening, deliver nothing. */
  function abort() {
    open = false;
    clearTimers();
    const rec = engine;
    release(rec);
    if (rec) {
      try { rec.abort(); } catch { /* already stopped */ }
    }
  }

  return {
    kind: "browser",
    start,
    finish,
    abort,
    /** The person let go of the floor: a pause may end the turn again. */
    released() { if (open) armPause(); },
    get active() { return open; },
  };
}
