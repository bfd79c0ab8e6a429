// Prototype (not served): the page side of bench/turns/stream.py. An AudioWorklet that turns
// the microphone into 16 kHz 16-bit mono PCM in 512-sample (32 ms) frames and posts each one to
// the page, which sends it on the WebSocket as a binary message. No build step, ~1 kB.
//
//   await context.audioWorklet.addModule("/js/voice/pcm-worklet.js");
//   const node = new AudioWorkletNode(context, "pcm-16k");
//   context.createMediaStreamSource(stream).connect(node);
//   node.port.onmessage = ({ data }) => socket.send(data); // ArrayBuffer, 1024 bytes
//
// iOS Safari (14.5+) runs AudioWorklets, also in a home-screen app; its AudioContext runs at
// 44.1 or 48 kHz whatever is asked, hence the resampling here.

const OUT_RATE = 16000;
const FRAME = 512;

class Pcm16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample
    this.pos = 0; // where the next output sample falls, in input samples
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
    this.previous = 0;
  }

  process(inputs) {
    const input = inputs[0]?.[0];
    if (!input) return true;
    // A one-pole low-pass, then the sample nearest each 16 kHz instant: crude, but enough
    // for a VAD and for Whisper (speech energy is mostly below 4 kHz).
    for (let i = 0; i < input.length; i += 1) {
      const x = this.previous + 0.5 * (input[i] - this.previous);
      while (this.pos <= i) {
        const s = Math.max(-1, Math.min(1, x));
        this.frame[this.filled] = s < 0 ? s * 0x8000 : s * 0x7fff;
        this.filled += 1;
        this.pos += this.step;
        if (this.filled === FRAME) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(FRAME);
          this.filled = 0;
        }
      }
      this.previous = x;
    }
    this.pos -= input.length;
    return true;
  }
}

registerProcessor("pcm-16k", Pcm16k);
