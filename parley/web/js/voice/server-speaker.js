// Speaking with the server's voices: the first sentence's audio is fetched as soon as it
// arrives, the next one's while it plays, and they play in order through one audio element,
// unlocked inside the first tap (iOS plays media only from a gesture). Same shape as speaker.js.

// An empty WAV, played inside the first tap to unlock the element. As a blob: URL, because
// the page's Content-Security-Policy allows media from 'self' and blob: only (a data: URL was
// refused, and the element stayed locked on iOS).
const SILENCE_WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";
let silence = null;
const silenceUrl = () => (silence ||= URL.createObjectURL(new Blob(
  [Uint8Array.from(atob(SILENCE_WAV), (c) => c.charCodeAt(0))], { type: "audio/wav" })));
// Sentences fetched ahead of the one playing: one is synthesised while another plays, so the
// next starts at once; no more, so a barge-in throws away little (and costs little).
const LOOKAHEAD = 1;

/** `fetchAudio(text, signal)` resolves to a Blob of audio for one sentence. */
export function createServerSpeaker({ fetchAudio, onStart = () => {}, onIdle = () => {},
  onBlocked = () => {}, onError = () => {} } = {}) {
  const audio = new Audio();
  audio.preload = "auto";
  let queue = []; // [{text, blob: Promise<Blob>}]
  let playing = null;
  let replyDone = true;
  let startedThisReply = false;
  let controller = new AbortController();
  let generation = 0;

  function idleIfDone() {
    if (!playing && !queue.length && replyDone) onIdle();
  }

  function fetchAhead() {
    for (const item of queue.slice(0, LOOKAHEAD)) {
      item.blob ||= fetchAudio(item.text, controller.signal);
    }
  }

  async function playNext() {
    if (playing || !queue.length) {
      idleIfDone();
      return;
    }
    const gen = generation;
    const item = queue.shift();
    playing = item;
    fetchAhead();
    let url = null;
    try {
      const blob = await item.blob;
      if (gen !== generation) return;
      url = URL.createObjectURL(blob);
      audio.src = url;
      await audio.play();
      if (!startedThisReply) {
        startedThisReply = true;
        onStart();
      }
      await new Promise((resolve) => {
        audio.onended = resolve;
        audio.onerror = resolve;
        audio.onpause = () => { if (audio.currentTime < audio.duration) resolve(); };
      });
    } catch (err) {
      if (gen !== generation || (err && err.name === "AbortError")) return;
      if (err && err.name === "NotAllowedError") onBlocked();
      else onError(err);
    } finally {
      if (url) URL.revokeObjectURL(url);
      if (gen === generation) {
        playing = null;
        playNext();
      }
    }
  }

  return {
    get supported() { return true; },

    /** Call inside the first tap: playing anything then unlocks the element for later. */
    unlock() {
      audio.src = silenceUrl();
      audio.play().catch(() => {});
    },

    begin() {
      replyDone = false;
      startedThisReply = false;
    },

    say(text) {
      if (!text.trim()) return;
      queue.push({ text, blob: null });
      fetchAhead();
      if (!playing) playNext();
    },

    end() {
      replyDone = true;
      idleIfDone();
    },

    /** Stop at once (barge-in): silence, drop the queue, abort the fetches. */
    cancel() {
      generation += 1;
      controller.abort();
      controller = new AbortController();
      queue = [];
      playing = null;
      replyDone = true;
      audio.pause();
      audio.removeAttribute("src");
    },

    get speaking() { return Boolean(playing || queue.length); },
    set voice(_) {},
    set rate(value) { audio.playbackRate = value; },
  };
}
