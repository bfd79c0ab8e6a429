// Listening by recording, the fallback of the fallback: where the browser's recognizer is
// missing or broken and the server cannot listen live (voice/streamer.js, a real VAD on the
// server), record the utterance and let the server transcribe it. Here only a loudness
// threshold tells speech from silence, and turn-end.js has no words to read, only pauses.
// Same listener shape as recognizer.js: start, finish, abort, active.
//
// The microphone is open only while a turn is being recorded: every track is stopped and
// the audio graph closed as soon as the turn ends.

import { openMicrophone } from "./microphone.js";

// iOS records AAC in MP4 and cannot decode anything else it records; Chrome and Firefox
// record Opus in WebM or Ogg. The first type the recorder supports wins.
const MIME_TYPES = ["audio/mp4", "audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus",
  "audio/ogg"];
const EXTENSIONS = { "audio/mp4": "m4a", "audio/webm": "webm", "audio/ogg": "ogg" };
// A turn is cut at this length: about 4 MB of AAC, under the 4.5 MB request limit of
// serverless hosts.
const MAX_SECONDS = 110;
const FRAME_MS = 50;
const SPEECH_FACTOR = 3; // louder than the room's noise floor by this much counts as speech
const MIN_LEVEL = 0.012; // RMS below this is silence whatever the floor
const FLOOR_RISE = 1.01; // the floor follows the quietest moments, and creeps up slowly

function recorderMimeType() {
  if (!window.MediaRecorder) return null;
  return MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
}

/**
 * `transcribe(blob, filename)` returns {text}; callbacks as for the browser listener, plus
 * onLevel(0..1) while recording and onTranscribing() once the recording is being sent.
 */
export function createServerListener({ turnEnd, held = () => false, transcribe,
  onInterim = () => {}, onTurn = () => {}, onError = () => {}, onListening = () => {},
  onLevel = () => {}, onTranscribing = () => {} } = {}) {
  let open = false;
  let stream = null;
  let recorder = null;
  let context = null;
  let timer = null;
  let chunks = [];
  let generation = 0;

  function release() {
    clearInterval(timer);
    timer = null;
    if (recorder && recorder.state !== "inactive") {
      try { recorder.stop(); } catch { /* already stopping */ }
    }
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    context?.close().catch(() => {});
    context = null;
    onLevel(0);
  }

  function watchLevels(source) {
    // Silence detection: turn-end.js says how long a pause after speech ends the turn.
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const started = performance.now();
    // The noise floor is the quietest level lately: people may start talking at once.
    let floor = MIN_LEVEL;
    let heard = false;
    turnEnd.start();
    timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const level = Math.sqrt(sum / samples.length);
      const now = performance.now();
      onLevel(Math.min(1, level * 8));
      floor = Math.min(floor * FLOOR_RISE, Math.max(level, MIN_LEVEL / SPEECH_FACTOR));
      const loud = level > Math.max(MIN_LEVEL, floor * SPEECH_FACTOR);
      if (loud) {
        if (!heard) onInterim("…");
        heard = true;
        turnEnd.voice(now);
      } else if (heard && !held() && turnEnd.decide(now).end) {
        finish();
      }
      if (now - started > MAX_SECONDS * 1000) finish();
    }, FRAME_MS);
  }

  async function start() {
    if (open) return;
    open = true;
    const mine = ++generation;
    chunks = [];
    // Made now, inside the tap: iOS leaves an AudioContext made later suspended (silent).
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    context = new AudioContext();
    context.resume?.().catch(() => {});
    try {
      stream = await openMicrophone();
    } catch (problem) {
      open = false;
      release();
      onError({ ...problem, fatal: true });
      return;
    }
    if (mine !== generation || !open) {
      release();
      return;
    }
    const mimeType = recorderMimeType();
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.start();
    watchLevels(context.createMediaStreamSource(stream));
    onListening();
  }

  /** End the turn now: stop recording, send the audio, deliver the text. */
  function finish() {
    if (!open || !recorder) {
      open = false;
      return;
    }
    open = false;
    const mine = generation;
    const active = recorder;
    // The recording is complete only after `stop` (an iOS MP4 cannot be read before).
    active.onstop = async () => {
      const type = (active.mimeType || "audio/webm").split(";")[0];
      const blob = new Blob(chunks, { type });
      chunks = [];
      if (mine !== generation) return;
      if (blob.size < 1000) {
        onTurn("");
        return;
      }
      onTranscribing();
      try {
        const { text } = await transcribe(blob, `turn.${EXTENSIONS[type] || "webm"}`);
        if (mine === generation) onTurn((text || "").trim());
      } catch (err) {
        if (mine === generation) {
          onError({ code: err.code || "transcribe", message: err.message, fatal: false });
        }
      }
    };
    release();
  }

  /** Drop the turn: stop recording and send nothing. */
  function abort() {
    open = false;
    generation += 1;
    release();
  }

  return {
    kind: "server",
    start,
    finish,
    abort,
    get active() { return open; },
  };
}
