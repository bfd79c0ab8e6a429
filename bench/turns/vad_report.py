"""How well each VAD finds speech in the corpus: frame errors, speech start and end, what
noise does in pauses and in noise-only clips, and what a frame costs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.turns.corpus import RATE, Audio
from bench.turns.simulate import percentile
from bench.turns.vad import Frames, Vad

EDGE_MS = 100.0  # frames this close to a true speech boundary are not scored
SPLIT_MS = 400.0  # silence inside a spoken phrase this long would split it (espeak's commas
# make ~200-300 ms)


@dataclass
class VadScore:
    name: str
    miss: float  # share of speech frames called silence
    false_alarm: float  # share of silent frames (pauses, lead-in, tail) called speech
    start_err: list[float]  # detected - true speech start, ms
    end_err: list[float]  # detected - true speech end, ms
    noisy_pauses: float  # share of mid-turn pauses with a speech onset inside (clock restarts)
    splits: float  # share of spoken phrases with a silence >= SPLIT_MS inside
    tail_held: int  # turns where noise after the end made speech frames for >= 300 ms
    noise_speech: float  # share of noise-clip frames called speech
    noise_onsets_per_min: float  # speech runs >= 100 ms per minute of noise-only audio
    us_per_frame: float
    frame_ms: float


def truth(turn: dict[str, Any], n: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """(speech, scored) per frame: inside a spoken phrase; away from any boundary."""
    mid = (np.arange(n) + 0.5) * hop * 1000 / RATE
    speech = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)
    for seg in turn["segments"]:
        speech |= (mid >= seg["start_ms"]) & (mid < seg["end_ms"])
        for edge in (seg["start_ms"], seg["end_ms"]):
            near |= np.abs(mid - edge) < EDGE_MS
    return speech, ~near


def timed_run(vad: Vad, audio: Audio) -> tuple[Frames, float]:
    """Frames, and the median cost of one frame in microseconds (wall clock)."""
    vad.reset()
    n = audio.size // vad.hop
    out = np.zeros(n, dtype=np.bool_)
    costs = np.zeros(n)
    for i in range(n):
        t = time.perf_counter()
        out[i] = vad(audio[i * vad.hop : (i + 1) * vad.hop])
        costs[i] = time.perf_counter() - t
    return Frames(vad.hop, out), float(np.median(costs) * 1e6)


def score_vad(
    vad: Vad, turns: list[dict[str, Any]], frames: dict[str, Frames], costs: list[float],
    noise: list[tuple[dict[str, Any], Frames]],
) -> VadScore:
    missed = speech_n = alarms = silent_n = 0
    start_err, end_err = [], []
    pauses = noisy = phrases = split = held = 0
    for turn in turns:
        f = frames[turn["id"]]
        is_speech, scored = truth(turn, f.speech.size, f.hop)
        missed += int(np.sum(is_speech & scored & ~f.speech))
        speech_n += int(np.sum(is_speech & scored))
        alarms += int(np.sum(~is_speech & scored & f.speech))
        silent_n += int(np.sum(~is_speech & scored))
        runs = [r for r in f.runs(True) if r[1] - r[0] >= 60]
        true_start = turn["segments"][0]["start_ms"]
        true_end = turn["true_end_ms"]
        if runs:
            start_err.append(runs[0][0] - true_start)
            before = [r for r in runs if r[0] < true_end + 300]
            if before:
                end_err.append(before[-1][1] - true_end)
            if any(r[0] >= true_end + 300 and r[1] - r[0] >= 300 for r in runs):
                held += 1
        for seg in turn["segments"]:
            phrases += 1
            quiet = [r for r in f.runs(False)
                     if r[0] >= seg["start_ms"] and r[1] <= seg["end_ms"]]
            split += any(b - a >= SPLIT_MS for a, b in quiet)
            pause = seg.get("pause_after")
            if pause:
                pauses += 1
                # A new onset inside the pause restarts the silence clock (a VAD's hangover
                # past the end of the words does not count).
                a, b = seg["end_ms"] + EDGE_MS, seg["end_ms"] + pause["ms"] - EDGE_MS
                noisy += any(a < r[0] < b for r in f.runs(True))
    noise_frames = noise_speech = onsets = 0
    noise_ms = 0.0
    for clip, f in noise:
        noise_frames += f.speech.size
        noise_speech += int(f.speech.sum())
        onsets += sum(1 for a, b in f.runs(True) if b - a >= 100)
        noise_ms += clip["duration_ms"]
    return VadScore(
        name=vad.name, miss=missed / max(1, speech_n), false_alarm=alarms / max(1, silent_n),
        start_err=start_err, end_err=end_err, noisy_pauses=noisy / max(1, pauses),
        splits=split / max(1, phrases), tail_held=held,
        noise_speech=noise_speech / max(1, noise_frames),
        noise_onsets_per_min=onsets / max(1e-9, noise_ms / 60_000),
        us_per_frame=float(np.median(costs)), frame_ms=vad.hop * 1000 / RATE,
    )


def print_table(scores: list[VadScore], turns: int) -> None:
    print(f"VAD on the recorder path ({turns} turns, frame by frame as a live stream)")
    head = (f"{'VAD':16} {'frame':>6} {'cost/frame':>10} {'missed':>7} {'false':>6} "
            f"{'start err':>10} {'end err':>13} {'noise in':>9} {'phrase':>7} {'noise':>6} "
            f"{'onsets':>7}")
    print(head)
    print(f"{'':16} {'':>6} {'':>10} {'speech':>7} {'alarm':>6} {'p50 |p95|':>10} "
          f"{'p50 [p5,p95]':>13} {'pauses':>9} {'splits':>7} {'clips':>6} {'/min':>7}")
    for s in scores:
        late = percentile([abs(e) for e in s.start_err], 95)
        start = f"{percentile(s.start_err, 50):+.0f} {late:.0f}"
        end = (f"{percentile(s.end_err, 50):+.0f} [{percentile(s.end_err, 5):+.0f},"
               f"{percentile(s.end_err, 95):+.0f}]")
        print(f"{s.name:16} {s.frame_ms:4.0f}ms {s.us_per_frame:8.0f}us {s.miss:7.1%} "
              f"{s.false_alarm:6.1%} {start:>10} {end:>13} {s.noisy_pauses:9.1%} "
              f"{s.splits:7.1%} {s.noise_speech:6.1%} {s.noise_onsets_per_min:7.1f}")
    print("missed speech / false alarm: frames inside / outside spoken phrases (100 ms from any "
          "edge not scored). start/end err: first/last detected speech minus the truth, ms. "
          "noise in pauses: mid-turn pauses where the VAD heard speech start (it restarts "
          "the silence clock). phrase splits: phrases with >= 400 ms called silence inside. noise "
          "clips: share of frames called speech in 24 clips of café hum, fan, typing, breaths.")
