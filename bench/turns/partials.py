"""Quick partial transcripts at each pause, with Parley's local Whisper (base, int8, greedy).

`python -m bench.turns.partials` measures what one costs on this machine for 1-5 s of
speech (wall clock; the figures the recorder-path simulation uses come from here). The
benchmark transcribes every pause of the corpus once and keeps the words in
`.cache/partials.json`, so later runs are quick and give the same words.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.turns.corpus import CACHE, RATE, Audio, load_wav

CACHE_FILE = CACHE / "partials.json"
WINDOW_S = 10
SHORT_VERSION = 5  # bump when run_short changes, so cached words are made again
NO_SPEECH = 0.6  # faster-whisper's no_speech_threshold
MIN_LOGPROB = -1.5  # looser than faster-whisper's -1.0: partials are short and cut mid-phrase
# What a short-window partial costs on 2 shared cores (base, int8, greedy, 2 threads), as
# `main()` measured it (load average 1.6): about fixed + per_second * seconds of audio. The
# simulation uses this model rather than the clock, so it stays deterministic.
COST_FIXED_MS = 130.0
COST_PER_SECOND_MS = 15.0


def cost_ms(samples: int) -> float:
    """The modelled time to transcribe `samples` of audio (see COST_* above)."""
    return COST_FIXED_MS + COST_PER_SECOND_MS * samples / RATE


class Partials:
    """Whisper transcripts of short stretches of audio, remembered by their content."""

    def __init__(self, *, threads: int = 2) -> None:
        self._threads = threads
        self._model: Any = None
        self._cache: dict[str, str] = {}
        if CACHE_FILE.exists():
            self._cache = json.loads(CACHE_FILE.read_text())
        self.misses = 0

    def _load(self) -> Any:
        if self._model is None:
            import logging

            from faster_whisper import WhisperModel  # type: ignore[import-untyped]  # untyped

            from parley.speech.whisper_local import MODEL_NAME, model_files

            logging.getLogger("faster_whisper").setLevel(logging.WARNING)
            self._model = WhisperModel(MODEL_NAME, device="cpu", compute_type="int8",
                                       cpu_threads=self._threads, files=model_files())
        return self._model

    def transcribe(self, audio: Audio) -> str:
        """The words in `audio` (already cut at speech by the VAD), short window."""
        pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
        key = f"{SHORT_VERSION}:{hashlib.sha1(pcm.tobytes()).hexdigest()}"
        if key not in self._cache:
            self.misses += 1
            self._cache[key] = self.run_short(pcm.astype(np.float32) / 32768.0)
        return self._cache[key]

    def run(self, audio: Audio) -> str:
        """faster-whisper as WhisperSTT calls it: the encoder always sees a 30 s window."""
        segments, _ = self._load().transcribe(
            audio, language="en", beam_size=1, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False,
        )
        return "".join(s.text for s in segments).strip()

    def run_short(self, audio: Audio) -> str:
        """The same model with the encoder window cut from 30 s to 10 s (or the audio + 1 s).

        Whisper pads every input to 30 s, so 1 s of speech costs as much as 30. CTranslate2
        accepts a shorter mel window (whisper.cpp calls this `audio_ctx`). The model was
        trained on 30 s windows: on 24 spoken questions from the corpus, a window of the audio
        + 1 s kept the "?" 10 times, 10 s 15 times, 30 s 16 times (121 / 162 / 528 ms).
        """
        import ctranslate2  # type: ignore[import-untyped, unused-ignore]  # untyped
        from faster_whisper.tokenizer import Tokenizer  # type: ignore[import-untyped]

        model = self._load()
        seconds = max(WINDOW_S, int(np.ceil(audio.size / RATE)) + 1)
        padded = np.zeros(seconds * RATE, dtype=np.float32)
        padded[: audio.size] = audio
        mel = model.feature_extractor(padded)[:, : seconds * 100]
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="en")
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        # A short window invites Whisper to repeat itself ("Got it. Got it. Got it") and to
        # make up words for a laugh: cap the length, forbid repeats, and drop what the
        # model itself doubts (faster-whisper's no-speech and log-probability thresholds).
        result = model.model.generate(
            features, [[*tokenizer.sot_sequence, tokenizer.no_timestamps]], beam_size=1,
            max_length=int(6 * audio.size / RATE) + 10, suppress_blank=True,
            suppress_tokens=[-1], no_repeat_ngram_size=3, return_scores=True,
            return_no_speech_prob=True,
        )[0]
        tokens = result.sequences_ids[0]
        logprob = result.scores[0] / max(1, len(tokens))  # scores are summed log-probabilities
        if result.no_speech_prob > NO_SPEECH or logprob < MIN_LOGPROB:
            return ""
        return str(tokenizer.decode(tokens)).strip()

    def save(self) -> None:
        if self.misses:
            CACHE_FILE.write_text(json.dumps(self._cache))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from bench.turns.corpus import load

    manifest = load()
    partials = Partials(threads=args.threads)
    started = time.perf_counter()
    partials._load()
    print(f"model load {time.perf_counter() - started:.2f} s (threads={args.threads}, "
          f"cores={os.cpu_count()})")
    # Stretches of real corpus speech, 1-5 s long, from the start of several turns; the
    # first pass warms CTranslate2 up (as WhisperSTT does at start-up) and is not counted.
    turns = manifest["turns"][:: max(1, len(manifest["turns"]) // 12)][: args.repeats]
    clips = []
    for turn in turns:
        audio = load_wav(Path(CACHE / turn["file"]))
        start = int(max(0.0, turn["segments"][0]["start_ms"] - 100) * RATE / 1000)
        clips.append(audio[start:])
    for name, fn in (("30 s window (as WhisperSTT)", partials.run),
                     ("short window", partials.run_short)):
        times: dict[int, list[float]] = {s: [] for s in (1, 2, 3, 4, 5)}
        said: dict[int, str] = {}
        for counted in (False, True):
            for clip in clips:
                for seconds in times:
                    t = time.perf_counter()
                    said[seconds] = fn(clip[: seconds * RATE])
                    if counted:
                        times[seconds].append((time.perf_counter() - t) * 1000)
        print(f"{name}:")
        rows = []
        for seconds, ms in times.items():
            rows.append((seconds, statistics.median(ms), max(ms)))
            print(f"  {seconds} s of speech: median {statistics.median(ms):5.0f} ms, "
                  f"max {max(ms):5.0f} ms   e.g. {said[seconds]!r}")
        print(f"  load average while measuring: {os.getloadavg()[0]:.1f}")
        slope, fixed = np.polyfit([r[0] for r in rows], [r[1] for r in rows], 1)
        print(f"  fit: {fixed:.0f} ms + {slope:.0f} ms per second of audio")
    print(f"The simulation uses {COST_FIXED_MS:.0f} + {COST_PER_SECOND_MS:.0f} ms per second.")


if __name__ == "__main__":
    main()
