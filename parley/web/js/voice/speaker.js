// Speaking with the browser's voices (speechSynthesis), one sentence at a time.

// Chrome and Safari drop an utterance that was garbage-collected before it ended, and
// never fire its `end`: every utterance stays referenced here until it is done.
const live = new Set();

// After cancel(), speaking again at once is ignored by some engines.
const CANCEL_COOLDOWN_MS = 100;

export function createSpeaker({ onStart = () => {}, onIdle = () => {}, onBlocked = () => {} } = {}) {
  const synth = window.speechSynthesis;
  let voices = [];
  let voiceURI = "";
  let rate = 1.05;
  let unlocked = false;
  let pending = 0; // utterances queued or speaking
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
    return voices.find((v) => v.voiceURI === voiceURI)
      || voices.find((v) => v.default && v.lang?.startsWith("en"))
      || voices.find((v) => v.lang?.startsWith(navigator.language?.slice(0, 2) || "en"))
      || null;
  }

  function maybeIdle(gen) {
    if (gen === generation && pending === 0 && replyDone) onIdle();
  }

  function utter(text, gen) {
    const u = new SpeechSynthesisUtterance(text);
    const voice = pickVoice();
    if (voice) u.voice = voice;
    u.lang = voice ? voice.lang : navigator.language || "en-US";
    u.rate = rate;
    live.add(u);
    let finished = false;
    // A watchdog for an `end` that never comes (iOS after a route change, Chrome at ~15 s).
    const budget = 4000 + (text.split(/\s+/).length / (2.6 * rate)) * 1000;
    const watchdog = setTimeout(() => {
      if (!synth.speaking) done();
    }, budget);
    function done() {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      live.delete(u);
      if (gen !== generation) return;
      pending -= 1;
      maybeIdle(gen);
    }
    u.onstart = () => {
      if (gen === generation && !startedThisReply) {
        startedThisReply = true;
        onStart();
      }
    };
    u.onend = done;
    u.onerror = done;
    synth.speak(u);
  }

  return {
    get supported() { return Boolean(synth); },

    /** Call inside the first tap: iOS only lets a page speak as the direct result of one. */
    unlock() {
      if (!synth || unlocked) return;
      unlocked = true;
      const u = new SpeechSynthesisUtterance(" ");
      u.volume = 0;
      live.add(u);
      u.onend = u.onerror = () => live.delete(u);
      synth.speak(u);
    },

    /** A new reply begins: sentences will follow. */
    begin() {
      replyDone = false;
      startedThisReply = false;
    },

    /** Speak one sentence (queued after the ones before it). */
    say(text) {
      if (!synth || !text.trim()) return;
      const gen = generation;
      pending += 1;
      const wait = cooldownUntil - Date.now();
      if (wait > 0) setTimeout(() => gen === generation && utter(text, gen), wait);
      else utter(text, gen);
      // A blocked speak() fails silently (iOS without a prior tap): check it took.
      setTimeout(() => {
        if (gen === generation && pending > 0 && !synth.speaking && !synth.pending
            && !startedThisReply) onBlocked();
      }, 1200);
    },

    /** No more sentences for this reply. */
    end() {
      replyDone = true;
      maybeIdle(generation);
    },

    /** Stop speaking at once (barge-in). */
    cancel() {
      generation += 1;
      pending = 0;
      replyDone = true;
      if (synth) synth.cancel();
      live.clear();
      cooldownUntil = Date.now() + CANCEL_COOLDOWN_MS;
    },

    get speaking() { return pending > 0; },
    set voice(uri) { voiceURI = uri; },
    set rate(value) { rate = value; },
    onVoices(listener) { voiceListeners.add(listener); listener(voices); },
  };
}
