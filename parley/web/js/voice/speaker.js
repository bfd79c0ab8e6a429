// Speaking with the browser's voices (speechSynthesis), one sentence at a time.
//
// Parley keeps its own queue of sentences and gives the engine one utterance at a time,
// handing over the next in a fresh task after the last one's `end` (or `error`). Engines
// drop `end` events: WebKitGTK never ends an utterance it starts the moment the previous
// one ends (queued by speak() while speaking, or spoken inside the previous `end`), and
// its `speechSynthesis.speaking` then stays true; iOS Safari loses `end` after a route
// change, Chrome stops a long utterance at ~15 s without one. So each utterance also has a
// deadline from its length and rate: past it, Parley cancels it and carries on as if it
// had ended, whatever `speaking` says. The talk loop never waits on the engine forever.

// Chrome and Safari drop an utterance that was garbage-collected before it ended, and
// never fire its `end`: every utterance stays referenced here until it is done.
const live = new Set();

// After cancel(), speaking again at once is ignored by some engines.
const CANCEL_COOLDOWN_MS = 100;
// An utterance's deadline: time for the engine to start, then its text at a slow pace
// (a person speaks ~15 characters a second; the deadline allows 10 at rate 1).
const START_ALLOWANCE_MS = 2500;
const MS_PER_CHARACTER = 100;
// A blocked speak() fails silently (iOS without a prior tap): checked this long after.
const BLOCKED_CHECK_MS = 1200;

/** How long `text` may take at `rate` before its missing `end` is presumed lost. */
export function deadlineMs(text, rate) {
  return START_ALLOWANCE_MS + (text.length * MS_PER_CHARACTER) / Math.max(rate || 1, 0.1);
}

/** The key a voice is chosen by: WebKitGTK's voices (Flite) all have an empty voiceURI. */
export const voiceKey = (voice) => voice.voiceURI || voice.name;

export function createSpeaker({ onStart = () => {}, onIdle = () => {}, onBlocked = () => {} } = {}) {
  const synth = window.speechSynthesis;
  let voices = [];
  let voiceURI = "";
  let rate = 1.05;
  let unlocked = false;
  let queue = []; // sentences waiting for the engine
  let current = null; // {silent} of the utterance the engine has now
  let handing = false; // the next sentence is being handed over (a task away)
  let replyDone = true;
  let startedThisReply = false;
  let cooldownUntil = 0;
  let generation = 0; // bumps on cancel so stale callbacks are ignored
  const voiceListeners = new Set();

  function loadVoices() {
    voices = synth ? synth.getVoices() : [];
    for (const listener of voiceListeners) listener(voices);
  }
  if (synth) {
    loadVoices();
    // getVoices() is empty until the engine is ready; WebKit added the event in 2023.
    synth.addEventListener?.("voiceschanged", loadVoices);
  }

  function pickVoice() {
    if (!voices.length) return null;
    return voices.find((v) => voiceURI && voiceKey(v) === voiceURI)
      || voices.find((v) => v.default && v.lang?.startsWith("en"))
      || voices.find((v) => v.lang?.startsWith(navigator.language?.slice(0, 2) || "en"))
      || null;
  }

  function busy() {
    return Boolean(current || handing);
  }

  function maybeIdle() {
    if (!busy() && queue.length === 0 && replyDone) onIdle();
  }

  /** The next sentence to the engine, in a task of its own (never inside an `end`). */
  function handOver(gen) {
    if (busy()) return;
    if (!queue.length) {
      maybeIdle();
      return;
    }
    handing = true;
    const wait = Math.max(0, cooldownUntil - Date.now());
    setTimeout(() => {
      if (gen !== generation) return;
      handing = false;
      if (current || !queue.length) {
        maybeIdle();
        return;
      }
      utter(queue.shift(), gen, { silent: false });
    }, wait);
  }

  function utter(text, gen, { silent }) {
    const u = new SpeechSynthesisUtterance(text);
    if (silent) {
      u.volume = 0;
    } else {
      const voice = pickVoice();
      if (voice) u.voice = voice;
      u.lang = voice ? voice.lang : navigator.language || "en-US";
      u.rate = rate;
    }
    live.add(u);
    const mine = { silent };
    current = mine;
    let finished = false;
    function finish({ lost }) {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      live.delete(u);
      if (gen !== generation || current !== mine) return;
      current = null;
      if (lost) {
        // The engine is stuck on it: clear it out, then go on as if it had ended.
        synth.cancel();
        cooldownUntil = Date.now() + CANCEL_COOLDOWN_MS;
      }
      handOver(gen);
    }
    const deadline = setTimeout(() => finish({ lost: true }), deadlineMs(text, rate));
    u.onstart = () => {
      if (silent || gen !== generation || startedThisReply) return;
      startedThisReply = true;
      onStart();
    };
    u.onend = () => finish({ lost: false });
    u.onerror = () => finish({ lost: false });
    synth.speak(u);
  }

  return {
    get supported() { return Boolean(synth); },

    /** Call inside the first tap: iOS only lets a page speak as the direct result of one. */
    unlock() {
      if (!synth || unlocked) return;
      unlocked = true;
      // Spoken now, inside the tap, but still one at a time: sentences wait for its end.
      if (!busy()) utter(" ", generation, { silent: true });
    },

    /** A new reply begins: sentences will follow. */
    begin() {
      replyDone = false;
      startedThisReply = false;
    },

    /** Speak one sentence, after the ones before it. */
    say(text) {
      if (!synth || !text.trim()) return;
      const gen = generation;
      queue.push(text);
      handOver(gen);
      setTimeout(() => {
        if (gen === generation && !startedThisReply && !synth.speaking && !synth.pending
            && (queue.length || busy())) onBlocked();
      }, BLOCKED_CHECK_MS);
    },

    /** No more sentences for this reply. */
    end() {
      replyDone = true;
      maybeIdle();
    },

    /** Stop speaking at once (barge-in). */
    cancel() {
      generation += 1;
      queue = [];
      current = null;
      handing = false;
      replyDone = true;
      if (synth) synth.cancel();
      cooldownUntil = Date.now() + CANCEL_COOLDOWN_MS;
    },

    /** Sentences are waiting or being spoken (the silent unlock does not count). */
    get speaking() { return queue.length > 0 || handing || Boolean(current && !current.silent); },
    set voice(key) { voiceURI = key; },
    set rate(value) { rate = value; },
    onVoices(listener) { voiceListeners.add(listener); listener(voices); },
  };
}
