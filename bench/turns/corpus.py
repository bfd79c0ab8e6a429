"""Spoken designer turns for the end-of-turn benchmark, generated with espeak-ng and sox.

Run with `python -m bench.turns.corpus` (the benchmark does it for you). Deterministic: a
fixed seed picks voices, rates, pause lengths and noise; sox's noise runs in repeatable mode.
The audio goes to `bench/turns/.cache/` (not in git); `manifest.json` there says, for every
clip, what was said when (times computed from sample counts), each pause's length and kind,
and the true end of the turn.

Texts: `tests/data/turns/turns.txt` (turns, with pause markers) and `barge.txt` (what people
say or do while Parley speaks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "turns"
CACHE = Path(__file__).resolve().parent / ".cache"
RATE = 16_000
SEED = 20240611
VERSION = 7  # bump when the output changes, so stale caches are rebuilt

Audio = npt.NDArray[np.float32]

# The pause markers in turns.txt and what they mean.
KINDS = {
    "c": "conjunction",
    "u": "unfinished clause",
    "f": "filler",
    "l": "list item",
    "s": "complete sentence",
    "q": "question",
}
# Median pause (s) after each kind for a person of pause scale 1; lognormal, clipped to
# 0.4-3 s. Hesitations (after "and", "um") run longer than pauses between sentences.
PAUSE_MEDIAN_S = {
    "conjunction": 0.95,
    "unfinished clause": 0.9,
    "filler": 1.1,
    "list item": 0.75,
    "complete sentence": 0.85,
    "question": 0.8,
}
PAUSE_SIGMA = 0.45
PAUSE_RANGE_S = (0.4, 3.0)
TAIL_S = 6.0  # room tone after the true end: longer than any policy waits
# espeak-ng spells some backchannels out; these phonemes sound closer.
PHONEMES = {"mm-hmm": "[[m@m'hm]]", "mhm": "[[m@m'hm]]", "hmm": "[[h'@m]]"}


@dataclass(frozen=True)
class Persona:
    """One simulated person: a voice, a speaking rate and how long they pause."""

    name: str
    voice: str
    wpm: int
    pitch: int
    pause_scale: float
    level_db: float  # speech RMS, dBFS


PERSONAS = (
    Persona("quick", "en-us", 180, 50, 0.75, -20.0),
    Persona("steady", "en-gb", 160, 40, 1.0, -23.0),
    Persona("thinker", "en-us+f3", 150, 60, 1.4, -22.0),
    Persona("scot", "en-gb-scotland", 165, 45, 0.9, -25.0),
    Persona("slow", "en-us+m3", 140, 35, 1.2, -21.0),
    Persona("rp", "en-gb-x-rp+f2", 170, 55, 1.05, -24.0),
)


def parse_turn(line: str) -> list[tuple[str, str | None]]:
    """[(segment text, kind of the pause after it or None at the end)] for one turns.txt line."""
    parts: list[tuple[str, str | None]] = []
    rest = line.strip()
    while True:
        cut = [i for i in (rest.find(f"|{k}") for k in KINDS) if i >= 0]
        if not cut:
            parts.append((rest.strip(), None))
            return parts
        at = min(cut)
        parts.append((rest[:at].strip(), KINDS[rest[at + 1]]))
        rest = rest[at + 2 :]


def read_lines(name: str) -> list[str]:
    text = (DATA / name).read_text("utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


# Audio helpers -----------------------------------------------------------------------------


def run(cmd: list[str], data: bytes | None = None) -> bytes:
    return subprocess.run(cmd, input=data, check=True, capture_output=True).stdout


def read_wav(raw: bytes) -> Audio:
    """16-bit mono WAV bytes (as sox writes them) as float32 samples."""
    import io

    with wave.open(io.BytesIO(raw)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def write_wav(path: Path, audio: Audio) -> None:
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def load_wav(path: Path) -> Audio:
    return read_wav(path.read_bytes())


def to_16k(raw: bytes, *effects: str) -> Audio:
    """Any WAV through sox: 16 kHz mono 16-bit, with optional sox effects."""
    return read_wav(run(["sox", "-R", "-t", "wav", "-", "-r", str(RATE), "-c", "1", "-b", "16",
                         "-t", "wav", "-", *effects], raw))


def sox_synth(seconds: float, *effects: str) -> Audio:
    """Sound made by sox from nothing (`synth ...` and other effects), repeatable."""
    return read_wav(run(["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", "-t", "wav",
                         "-", "synth", f"{seconds:.3f}", *effects]))


def rms(x: Audio) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def active(x: Audio, *, threshold: float = 0.01, hop: int = 160) -> tuple[int, int]:
    """First and last sample of sound in a clean (noise-free) signal."""
    frames = x[: x.size // hop * hop].reshape(-1, hop)
    loud = np.flatnonzero(np.abs(frames).max(axis=1) > threshold)
    if not loud.size:
        return 0, 0
    return int(loud[0] * hop), int(min(x.size, (loud[-1] + 1) * hop))


def db(level_db: float) -> float:
    return float(10 ** (level_db / 20))


# Speech ------------------------------------------------------------------------------------


def speak(text: str, persona: Persona) -> Audio:
    """`text` spoken by the persona, trimmed to its sound, at the persona's level."""
    key = hashlib.sha1(f"{VERSION}|{text}|{persona}".encode()).hexdigest()[:16]
    cached = CACHE / "speech" / f"{key}.wav"
    if cached.exists():
        return load_wav(cached)
    spoken = PHONEMES.get(text.lower().strip(" .,!?"), text)
    raw = run(["espeak-ng", "-v", persona.voice, "-s", str(persona.wpm), "-p", str(persona.pitch),
               "--stdout", "--", spoken])
    audio = to_16k(raw)
    start, end = active(audio, threshold=0.02 * float(np.abs(audio).max() or 1))
    audio = audio[start:end]
    audio = (audio * (db(persona.level_db) / max(rms(audio), 1e-6))).astype(np.float32)
    write_wav(cached, audio)
    return audio


def word_times(text: str, start_ms: float, end_ms: float) -> list[dict[str, Any]]:
    """Estimated word timings: the segment's span shared out by letters (espeak gives none)."""
    words = text.split()
    weights = [max(2, sum(ch.isalnum() for ch in w)) + 2 for w in words]
    total = sum(weights)
    out, at = [], start_ms
    for w, weight in zip(words, weights, strict=True):
        span = (end_ms - start_ms) * weight / total
        out.append({"w": w, "start": round(at), "end": round(at + span)})
        at += span
    return out


# Noise -------------------------------------------------------------------------------------


class Noises:
    """Noise beds and bursts made once by sox; each clip takes its own slice."""

    BED_S = 90.0

    def __init__(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        self.beds = {
            # Café hum: pink and brown noise, with a little low rumble.
            "cafe-pink": self._bed("pinknoise", "lowpass", "6000"),
            "cafe-brown": self._bed("brownnoise", "highpass", "40"),
            # Ventilation / laptop fan: band-limited white noise.
            "fan": self._bed("whitenoise", "bandpass", "400", "300h"),
        }
        self.clicks = [
            sox_synth(0.012, "whitenoise", "highpass", str(hp), "fade", "0", "0.012", "0.010")
            for hp in (1500, 2500, 3500)
        ]
        # Breath: band-limited noise with a slow swell, 0.3-0.6 s.
        self.breaths = [
            sox_synth(s, "pinknoise", "bandpass", "1500", "1200h", "fade", "q", f"{s * 0.4:.2f}",
                      f"{s:.2f}", f"{s * 0.5:.2f}")
            for s in (0.32, 0.45, 0.58)
        ]

    def _bed(self, color: str, *effects: str) -> Audio:
        path = CACHE / f"bed-{color}-{VERSION}.wav"
        if not path.exists():
            write_wav(path, sox_synth(self.BED_S, color, *effects))
        bed = load_wav(path)
        return (bed / max(rms(bed), 1e-6)).astype(np.float32)  # unit RMS

    def bed(self, name: str, n: int, level_db: float, rng: np.random.Generator) -> Audio:
        src = self.beds[name]
        start = int(rng.integers(0, src.size - n - 1))
        return (src[start : start + n] * db(level_db)).astype(np.float32)


def add(track: Audio, sound: Audio, at: int) -> None:
    end = min(track.size, at + sound.size)
    if at < end:
        track[at:end] += sound[: end - at]


def typing(noises: Noises, seconds: float, level_db: float, rng: np.random.Generator) -> Audio:
    """Keyboard: clicks every 80-250 ms, each a little different in level."""
    out = np.zeros(int(seconds * RATE), dtype=np.float32)
    at = int(rng.integers(0, RATE // 10))
    while at < out.size:
        click = noises.clicks[int(rng.integers(len(noises.clicks)))]
        peak = float(np.abs(click).max() or 1)
        add(out, click / peak * db(level_db + float(rng.uniform(-6, 0))), at)
        at += int(rng.uniform(0.08, 0.25) * RATE)
    return out


def cough(rng: np.random.Generator) -> Audio:
    """A cough-like burst: a sharp broadband onset, a decaying slightly voiced tail, twice."""
    s = float(rng.uniform(0.25, 0.4))
    env = ("fade", "t", "0.01", f"{s:.2f}", f"{s * 0.7:.2f}")
    burst = sox_synth(s, "brownnoise", "lowpass", "3500", *env) \
        + 0.3 * sox_synth(s, "sawtooth", "130", "lowpass", "2000", *env)
    second = sox_synth(0.2, "whitenoise", "lowpass", "2500", "fade", "t", "0.01", "0.2", "0.15")
    out = np.concatenate([burst, np.zeros(int(0.12 * RATE), np.float32), second * 0.6])
    return (out / max(rms(out), 1e-6) * db(-20)).astype(np.float32)


def laugh(rng: np.random.Generator) -> Audio:
    """A laugh-like burst: 4-7 breathy voiced pulses ("ha ha ha") about 180 ms apart."""
    pulses = []
    f0 = float(rng.uniform(180, 260))
    for i in range(int(rng.integers(4, 8))):
        s = float(rng.uniform(0.09, 0.13))
        env = ("lowpass", "3000", "fade", "t", "0.02", f"{s:.2f}", "0.05")
        pulse = sox_synth(s, "sawtooth", f"{f0 * (1 - 0.03 * i):.0f}", *env) \
            + 0.5 * sox_synth(s, "pinknoise", *env)
        pulses += [pulse, np.zeros(int(rng.uniform(0.05, 0.09) * RATE), np.float32)]
    out = np.concatenate(pulses)
    return (out / max(rms(out), 1e-6) * db(-22)).astype(np.float32)


# The corpus --------------------------------------------------------------------------------


def pause_seconds(kind: str, persona: Persona, rng: np.random.Generator) -> float:
    median = PAUSE_MEDIAN_S[kind] * persona.pause_scale
    s = float(median * math.exp(PAUSE_SIGMA * rng.standard_normal()))
    return round(min(PAUSE_RANGE_S[1], max(PAUSE_RANGE_S[0], s)), 3)


def conditions(rng: np.random.Generator) -> dict[str, Any]:
    """The room a clip is recorded in: a noise bed, maybe typing, maybe breaths."""
    roll = float(rng.random())
    bed = "quiet" if roll < 0.35 else "cafe-pink" if roll < 0.6 else "cafe-brown" if roll < 0.8 \
        else "fan"
    return {
        "bed": bed,
        "snr_db": round(float(rng.uniform(12, 25)), 1) if bed != "quiet" else None,
        "typing": bool(rng.random() < 0.3),
        "breaths": bool(rng.random() < 0.4),
    }


def render_turn(
    index: int, base: int, line: str, persona: Persona, noises: Noises, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng([seed, index])
    room = conditions(rng)
    parts = parse_turn(line)
    lead = float(rng.uniform(0.3, 0.9))
    pieces: list[Audio] = [np.zeros(int(lead * RATE), np.float32)]
    at = pieces[0].size
    segments, pauses = [], []
    for text, kind in parts:
        audio = speak(text, persona)
        start_ms, end_ms = at * 1000 / RATE, (at + audio.size) * 1000 / RATE
        seg: dict[str, Any] = {"text": text, "start_ms": round(start_ms, 1),
                               "end_ms": round(end_ms, 1),
                               "words": word_times(text, start_ms, end_ms)}
        pieces.append(audio)
        at += audio.size
        if kind is not None:
            seconds = pause_seconds(kind, persona, rng)
            n = round(seconds * RATE)
            seg["pause_after"] = {"kind": kind, "ms": round(n * 1000 / RATE, 1)}
            pauses.append((at, n))
            pieces.append(np.zeros(n, np.float32))
            at += n
        segments.append(seg)
    true_end = at
    pieces.append(np.zeros(int(TAIL_S * RATE), np.float32))
    speech = np.concatenate(pieces).astype(np.float32)
    mix = speech.copy()
    level = persona.level_db
    if room["bed"] == "quiet":
        mix += noises.bed("fan", speech.size, -66.0, rng)  # microphone self-noise
    else:
        mix += noises.bed(room["bed"], speech.size, level - float(room["snr_db"]), rng)
    events = []
    for start, n in pauses:
        if room["typing"] and rng.random() < 0.6 and n > 0.5 * RATE:
            span = float(rng.uniform(0.3, n / RATE - 0.1))
            off = int(rng.uniform(0, n - span * RATE))
            add(mix, typing(noises, span, level - 4, rng), start + off)
            events.append({"sound": "typing", "at_ms": round((start + off) * 1000 / RATE),
                           "ms": round(span * 1000)})
        if room["breaths"] and rng.random() < 0.7:
            breath = noises.breaths[int(rng.integers(len(noises.breaths)))]
            if breath.size + 0.1 * RATE < n:
                b_at = start + n - breath.size - int(0.08 * RATE)  # an in-breath before going on
                add(mix, breath * db(level - 16) / max(rms(breath), 1e-6), b_at)
                events.append({"sound": "breath", "at_ms": round(b_at * 1000 / RATE),
                               "ms": round(breath.size * 1000 / RATE)})
    name = f"turn-{index:03d}.wav"
    write_wav(CACHE / "audio" / name, mix)
    return {
        "id": f"turn-{index:03d}", "base": base, "split": "tune" if base % 2 == 0 else "test",
        "persona": persona.name, "voice": persona.voice, "wpm": persona.wpm, "room": room,
        "file": f"audio/{name}", "segments": segments, "sounds": events,
        "true_end_ms": round(true_end * 1000 / RATE, 1),
        "duration_ms": round(mix.size * 1000 / RATE, 1),
    }


def render_barge(
    index: int, kind: str, text: str, persona: Persona, noises: Noises, seed: int
) -> dict[str, Any]:
    """Something the person says (or does) while Parley speaks: 0.4 s lead, 1.5 s after."""
    rng = np.random.default_rng([seed, 10_000 + index])
    room = conditions(rng)
    if text == "(cough)":
        sound = cough(rng)
    elif text == "(laugh)":
        sound = laugh(rng)
    else:
        sound = speak(text, persona)
    lead = int(0.4 * RATE)
    track = np.zeros(lead + sound.size + int(1.5 * RATE), np.float32)
    add(track, sound, lead)
    if room["bed"] == "quiet":
        track += noises.bed("fan", track.size, -66.0, rng)
    else:
        track += noises.bed(room["bed"], track.size, persona.level_db - float(room["snr_db"]), rng)
    name = f"barge-{index:03d}.wav"
    write_wav(CACHE / "audio" / name, track)
    start_ms, end_ms = lead * 1000 / RATE, (lead + sound.size) * 1000 / RATE
    words = [] if text.startswith("(") else word_times(text, start_ms, end_ms)
    return {"id": f"barge-{index:03d}", "kind": kind, "text": text, "persona": persona.name,
            "room": room, "file": f"audio/{name}", "start_ms": round(start_ms, 1),
            "end_ms": round(end_ms, 1), "words": words,
            "duration_ms": round(track.size * 1000 / RATE, 1)}


def render_noise(index: int, kind: str, noises: Noises, seed: int) -> dict[str, Any]:
    """Six seconds of a room with nobody talking."""
    rng = np.random.default_rng([seed, 20_000 + index])
    n = 6 * RATE
    level = float(rng.uniform(-48, -36))
    track = np.zeros(n, np.float32)
    if kind in ("cafe-pink", "cafe-brown", "fan"):
        track += noises.bed(kind, n, level, rng)
    else:
        track += noises.bed("fan", n, -66.0, rng)
    if kind == "typing":
        add(track, typing(noises, 5.5, -26.0, rng), int(0.2 * RATE))
    if kind == "breaths":
        for at in (0.5, 2.2, 4.1):
            breath = noises.breaths[int(rng.integers(len(noises.breaths)))]
            add(track, breath * db(-36) / max(rms(breath), 1e-6), int(at * RATE))
    if kind == "cafe+typing":
        track += noises.bed("cafe-pink", n, level, rng)
        add(track, typing(noises, 5.5, -28.0, rng), int(0.2 * RATE))
    name = f"noise-{index:03d}.wav"
    write_wav(CACHE / "audio" / name, track)
    return {"id": f"noise-{index:03d}", "kind": kind, "file": f"audio/{name}",
            "level_db": round(level, 1), "duration_ms": 6000.0}


NOISE_KINDS = ("cafe-pink", "cafe-brown", "fan", "typing", "breaths", "cafe+typing")


def build(*, seed: int = SEED, renders: int = 3, jobs: int = 2) -> dict[str, Any]:
    """Write every clip and the manifest; returns the manifest."""
    noises = Noises()
    lines = read_lines("turns.txt")
    work: list[tuple[int, int, str, Persona]] = []
    for base, line in enumerate(lines):
        for r in range(renders):
            # Both halves (split by the parity of `base`) get every persona.
            persona = PERSONAS[(base // 2 + 2 * r) % len(PERSONAS)]
            work.append((len(work), base, line, persona))
    barge: list[tuple[str, str, Persona]] = []
    for line in read_lines("barge.txt"):
        kind, _, text = line.partition(":")
        for _ in range(3 if kind.strip() == "interruption" else 4):
            barge.append((kind.strip(), text.strip(), PERSONAS[len(barge) % len(PERSONAS)]))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        turns = list(pool.map(lambda w: render_turn(w[0], w[1], w[2], w[3], noises, seed), work))
        clips = list(pool.map(lambda b: render_barge(b[0], b[1][0], b[1][1], b[1][2], noises,
                                                     seed), enumerate(barge)))
        noise = list(pool.map(lambda k: render_noise(k[0], k[1], noises=noises, seed=seed),
                              enumerate([k for k in NOISE_KINDS for _ in range(4)])))
    manifest = {"version": VERSION, "seed": seed, "sample_rate": RATE,
                "personas": [p.__dict__ for p in PERSONAS],
                "turns": turns, "barge": clips, "noise": noise}
    (CACHE / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def load(*, rebuild: bool = False) -> dict[str, Any]:
    """The manifest, building the corpus first if it is missing or stale."""
    path = CACHE / "manifest.json"
    if not rebuild and path.exists():
        manifest: dict[str, Any] = json.loads(path.read_text())
        if manifest.get("version") == VERSION and manifest.get("seed") == SEED:
            return manifest
    return build()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate every clip")
    args = parser.parse_args()
    manifest = load(rebuild=args.rebuild)
    turns = manifest["turns"]
    pauses = [s["pause_after"] for t in turns for s in t["segments"] if "pause_after" in s]
    print(f"{len(turns)} turns ({sum(t['split'] == 'tune' for t in turns)} tune / "
          f"{sum(t['split'] == 'test' for t in turns)} test), {len(pauses)} mid-turn pauses, "
          f"{len(manifest['barge'])} barge-in clips, {len(manifest['noise'])} noise clips "
          f"in {CACHE}")
    for kind in KINDS.values():
        ms = sorted(p["ms"] for p in pauses if p["kind"] == kind)
        if ms:
            print(f"  after {kind:18} {len(ms):4}  median {ms[len(ms) // 2]:6.0f} ms  "
                  f"max {ms[-1]:6.0f} ms")


if __name__ == "__main__":
    main()
