// Listening live on the recorder path: where the browser's recognizer is missing or broken
// (an iPhone home-screen app, Firefox, in-app browsers), the microphone streams to the
// server's ear (a WebSocket: Silero VAD, and a first look at the words at each pause),
// and turn-end.js decides when the turn is over, as it does for the browser recognizer.
// Same listener shape as recognizer.js: start, finish, abort, active.
//
// The microphone is open only while a turn is heard: every track is stopped and the audio
// graph closed as soon as the turn ends.

import { openMicrophone } from "./microphone.js";

const FRAME_MS = 32; // 512 samples at 16 kHz, as pcm-worklet.js posts them
const MAX_MS = 110_000; // a turn is cut here (the server refuses past 120 s)

/**
 * `connect()` opens the WebSocket (api.js knows where); `start` is the first message's
 * fields (key, access code, language, provider). Callbacks as for the browser listener, plus
 * onLevel(0..1) and onTranscribing(). `held()`: the person holds the floor.
 */
export function createStreamListener({ connect, startMessage, turnEnd, held = () => false,
  onInterim = () => {}, onTurn = () => {}, onError = () => {}, onListening = () => {},
  onLevel = () => {}, onTranscribing = () => {} } = {}) {
  let open = false;
  let stream = null;
  let context = null;
  let node = null;
  let socket = null;
  let timer = null;
  let sentMs = 0; // audio streamed so far: the clock the server's events are in
  let words = ""; // the first look at what was said, pause by pause
  let speaking = false; // the server heard speech begin and not yet pause
  let audioZero = 0; // performance.now() at the turn's first audio sample (turn-end counts
  // in milliseconds of audio sent, as the server's events do)
  let generation = 0;

  function release() {
    clearTimeout(timer);
    timer = null;
    if (node) node.port.onmessage = null;
    node?.disconnect();
    node = null;
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    context?.close().catch(() => {});
    context = null;
    onLevel(0);
  }

  function check() {
    clearTimeout(timer);
    if (!open) return;
    // Between a `speech` event and its `pause` the person is still talking: the server says
    // when speech begins and when it stops, not every moment in between. Without this a
    // sentence longer than the no-words wait (2 s) was ended while it was being said.
    if (speaking) turnEnd.voice(sentMs);
    const decision = turnEnd.decide(sentMs);
    if (decision.end && !held()) {
      finish();
      return;
    }
    timer = setTimeout(check, held() ? 250 : Math.max(FRAME_MS, decision.inMs ?? 250));
  }

  function heard(event) {
    if (event.type === "speech") {
      speaking = true;
      if (!words) onInterim("…");
      turnEnd.voice(event.at);
    } else if (event.type === "pause") {
      speaking = false;
      turnEnd.voice(event.spokeAt ?? event.at);
      if (socket?.wantsWords) turnEnd.awaitWords(event.spokeAt ?? event.at);
      check();
    } else if (event.type === "words" && event.text) {
      words = `${words} ${event.text}`.trim();
      turnEnd.heard(words, sentMs, { final: true, spokeAtMs: event.spokeAt });
      onInterim(words);
      check();
    }
  }

  async function start() {
    if (open) return;
    open = true;
    const mine = ++generation;
    sentMs = 0;
    words = "";
    speaking = false;
    turnEnd.start();
    // Made now, inside the tap: iOS leaves an AudioContext made later suspended (silent).
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    context = new AudioContext();
    context.resume?.().catch(() => {});
    try {
      stream = await openMicrophone();
      await context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
    } catch (problem) {
      open = false;
      release();
      onError({ code: problem?.code || "microphone", message: problem?.message
        || "The microphone couldn't be opened. Tap again.", fatal: true });
      return;
    }
    if (mine !== generation || !open) {
      release();
      return;
    }
    const ws = connect();
    socket = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send(JSON.stringify({ type: "start", ...startMessage() }));
    ws.onmessage = ({ data }) => {
      if (mine !== generation) return;
      const event = JSON.parse(data);
      if (event.type === "ready") {
        ws.wantsWords = event.words;
        node = new AudioWorkletNode(context, "pcm-16k");
        context.createMediaStreamSource(stream).connect(node);
        node.port.onmessage = ({ data: frame }) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(frame);
          sentMs += FRAME_MS;
          audioZero = performance.now() - sentMs;
          const samples = new Int16Array(frame);
          let sum = 0;
          for (const s of samples) sum += s * s;
          onLevel(Math.min(1, (Math.sqrt(sum / samples.length) / 32768) * 8));
          if (sentMs >= MAX_MS) finish();
        };
        onListening();
        check();
      } else if (event.type === "transcript") {
        onTurn((event.text || "").trim());
        ws.close();
      } else if (event.type === "error") {
        const wasOpen = open;
        open = false;
        release();
        onError({ code: event.code, message: event.message, fatal: false });
        if (!wasOpen) onTurn("");
      } else {
        heard(event);
      }
    };
    ws.onerror = () => {
      if (mine !== generation || (!open && ws.ended)) return;
      open = false;
      release();
      onError({ code: "network", message: "Parley's server stopped listening. Tap the mic "
        + "to try again, or type.", fatal: false });
    };
  }

  /** End the turn now: the server transcribes what it heard and the words come back. */
  function finish() {
    if (!open) return;
    open = false;
    release();
    if (!socket || socket.readyState !== WebSocket.OPEN || !sentMs) {
      socket?.close();
      onTurn(words);
      return;
    }
    socket.ended = true;
    socket.send(JSON.stringify({ type: "end" }));
    onTranscribing();
  }

  /** Drop the turn: stop listening, and tell the server to transcribe nothing. */
  function abort() {
    open = false;
    generation += 1;
    release();
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "cancel" }));
    socket?.close();
    socket = null;
  }

  return {
    kind: "stream",
    start,
    finish,
    abort,
    released() { if (open) check(); },
    /** A moment in the turn's audio (ms sent) as performance.now() time, for timing.js. */
    pageTime: (audioMs) => audioZero + audioMs,
    get active() { return open; },
  };
}
