// An AudioWorklet: the microphone as 16 kHz 16-bit mono PCM, 512 samples (32 ms) at a time,
// posted to the page, which streams them to the server's ear (streamer.js). iOS Safari runs
// AudioWorklets (14.5+), also in a home-screen app; its AudioContext runs at 44.1 or 48 kHz
// whatever is asked, hence the resampling here.

const OUT_RATE = 16000;
const FRAME = 512;

class Pcm16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample (3 at 48 kHz)
    this.until = this.step; // input samples left before the next output sample is due
    this.sum = 0;
    this.count = 0;
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0]?.[0];
    if (!input) return true;
    // Each 16 kHz sample is the mean of the input samples it spans: a box filter that keeps
    // the higher frequencies from folding back into speech (picking the nearest sample
    // instead cost Whisper words, measured on espeak speech through Chromium).
    for (let i = 0; i < input.length; i += 1) {
      this.sum += input[i];
      this.count += 1;
      this.until -= 1;
      if (this.until > 0) continue;
      this.until += this.step;
      const s = Math.max(-1, Math.min(1, this.sum / this.count));
      this.sum = 0;
      this.count = 0;
      this.frame[this.filled] = s < 0 ? s * 0x8000 : s * 0x7fff;
      this.filled += 1;
      if (this.filled === FRAME) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Int16Array(FRAME);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm-16k", Pcm16k);
