// Speaking with the browser's voices (speechSynthesis), one sentence at a time: Parley
// keeps the queue and hands over the next utterance in a task after `end`/`error`, since
// WebKitGTK never ends one started as the previous ends (and stays `speaking`). iOS and
// Chrome (~15 s) lose `end` too: past a deadline from its length and rate an utterance is
// cancelled and Parley goes on as if it had ended. The loop never waits forever.

// A garbage-collected utterance never fires `end` (Chrome, Safari): keep each until done.
const live = new Set();
// After cancel(), speaking again at once is ignored by some engines.
const CANCEL_COOLDOWN_MS = 100;
// Time to start, then the text at 10 characters a second (people say ~15) at rate 1.
const START_ALLOWANCE_MS = 2500;
const MS_PER_CHARACTER = 100;
// A blocked speak() fails silently (iOS without a prior tap): checked this long after.
const BLOCKED_CHECK_MS = 1200;

/** How long `text` may take at `rate` before its missing `end` is presumed lost. */
export function deadlineMs(text, rate) {
  return START_ALLOWANCE_MS + (text.length * MS_PER_CHARACTER) / Math.max(rate || 1, 0.1);
}

/** A voice's key: WebKitGTK's (Flite) all have an empty voiceURI. */
export const voiceKey = (voice) => voice.voiceURI || voice.name;

export function createSpeaker({ onStart = () => {}, onIdle = () => {}, onBlocked = () => {} } = {}) {
  const synth = window.speechSynthesis;
  let voices = [];
  let voiceURI = "";
  let rate = 1.05;
  let unlocked = false;
  let queue = []; // sentences waiting for the engine
  let current = null; // {silent}: the engine's utterance
  let handing = false; // the next is a task away
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
        synth.cancel(); // the engine is stuck on it
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
      // Now, inside the tap; sentences wait for its end.
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
