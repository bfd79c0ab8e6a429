"""What each listening path would hear, event by event, with the corpus's real timing.

- Browser path: the events Chrome's recognizer (Web Speech API) would fire: an interim result
  as each word is recognised, a final result when it closes a phrase. No punctuation, and the
  fillers Google's recognizer leaves out ("um", "uh") are left out.
- Recorder path: a VAD's speech frames on the real audio, and (optionally) a quick Whisper
  transcript of each stretch of speech, delivered after its modelled cost.

Plus today's fixed-timer baselines, and the scoring of turn ends (cut-offs and delays).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.turns.corpus import RATE, SEED, Audio
from bench.turns.vad import Frames

Event = dict[str, Any]

# Chrome's recognizer, as modelled (assumptions, not measurements: see NOTES.md).
INTERIM_LAG_MS = (150.0, 350.0)  # a word's interim result arrives this long after it is said
LAG_STEP_MS = 40.0  # ... and the lag drifts by about this much from one word to the next
FINAL_LAG_MS = (500.0, 900.0)  # a final result, this long after the phrase's last word
PHRASE_GAP_MS = 500.0  # Chrome closes a phrase at a pause at least this long
SPEECHSTART_LAG_MS = 200.0  # `speechstart` fires this long after the sound begins
DROPPED = frozenset({"um", "uh", "er", "erm", "hmm", "mm", "uhm"})
# The recorder path's streaming VAD calls a pause after this much silence.
PAUSE_EVENT_MS = 200.0


def chrome_words(text: str) -> list[str]:
    """Words as Chrome writes them: lower case, no punctuation, no "um"."""
    words = re.findall(r"[a-z0-9'-]+", text.lower().replace("\u2019", "'"))
    return [w for w in words if w not in DROPPED]


def chrome_events(turn: dict[str, Any], index: int) -> list[Event]:
    """The recognizer's result events for one turn, in time order."""
    rng = np.random.default_rng([SEED, 7, index])
    events: list[Event] = []
    closed: list[str] = []
    phrase: list[str] = []
    last = 0.0
    lag = float(rng.uniform(*INTERIM_LAG_MS))
    for seg in turn["segments"]:
        for w in seg["words"]:
            said = chrome_words(w["w"])
            if not said:
                continue
            phrase += said
            lag = min(INTERIM_LAG_MS[1], max(INTERIM_LAG_MS[0],
                                             lag + LAG_STEP_MS * float(rng.standard_normal())))
            last = max(last + 1, w["end"] + lag)
            events.append({"t": last, "type": "heard", "text": " ".join(closed + phrase),
                           "final": False})
        pause = seg.get("pause_after", {}).get("ms", math.inf)
        if pause >= PHRASE_GAP_MS and phrase:
            closed += phrase
            phrase = []
            at = max(last + 1, seg["end_ms"] + float(rng.uniform(*FINAL_LAG_MS)))
            events.append({"t": at, "type": "heard", "text": " ".join(closed), "final": True})
    # A final cannot come after the next phrase's first word: Chrome closes the phrase first.
    for i, e in enumerate(events[:-1]):
        if e["final"]:
            e["t"] = min(e["t"], events[i + 1]["t"] - 1)
    return events


def fixed_after_events(times: Sequence[float], wait_ms: float) -> float | None:
    """recognizer.js today: every result re-arms a `wait_ms` timer; the turn ends when it fires."""
    for a, b in zip(times, [*times[1:], math.inf], strict=True):
        if b - a >= wait_ms:
            return a + wait_ms
    return None


def fixed_after_frames(frames: Frames, wait_ms: float) -> float | None:
    """A silence timer on VAD frames (recorder.js today with the energy VAD): the turn ends
    `wait_ms` after the first quiet frame that follows speech."""
    heard = False
    quiet_since: float | None = None
    for i, speech in enumerate(frames.speech):
        now = frames.end_ms(i)
        if speech:
            heard, quiet_since = True, None
        elif heard:
            quiet_since = now if quiet_since is None else quiet_since
            if now - quiet_since >= wait_ms:
                return now
    return None


def speech_events(frames: Frames) -> list[Event]:
    """VAD speech frames as `voice` events (compressed into runs)."""
    hop_ms = frames.hop * 1000 / RATE
    return [{"t": a + hop_ms, "type": "speech", "from": a + hop_ms, "to": b, "hop": hop_ms}
            for a, b in frames.runs(True)]


@dataclass
class Words:
    """Quick partial transcripts for the recorder path."""

    transcribe: Callable[[Audio], str]
    cost_ms: Callable[[int], float]
    calls: int = 0
    texts: list[str] = field(default_factory=list)


def recorder_events(frames: Frames, audio: Audio, words: Words | None) -> list[Event]:
    """Speech frames, plus, at each pause the VAD calls, a transcript of the speech before it:
    `await` when the pause is known, `heard` when the words arrive."""
    events = speech_events(frames)
    if words is None:
        return events
    runs = list(frames.runs(True))
    said: list[str] = []
    start = runs[0][0] if runs else 0.0
    for i, (_, end) in enumerate(runs):
        gap = runs[i + 1][0] - end if i + 1 < len(runs) else math.inf
        if gap < PAUSE_EVENT_MS:
            continue
        known = end + PAUSE_EVENT_MS
        a = max(0, int((start - 200) * RATE / 1000))
        b = min(audio.size, int((end + 100) * RATE / 1000))
        text = words.transcribe(audio[a:b])
        words.calls += 1
        if text:
            said.append(text)
        arrives = known + words.cost_ms(b - a)
        events.append({"t": known, "type": "await", "since": end})
        events.append({"t": arrives, "type": "heard", "text": " ".join(said), "final": True,
                       "spokeAt": end})
        if i + 1 < len(runs):
            start = runs[i + 1][0]
    return sorted(events, key=lambda e: float(e["t"]))


# Scoring ------------------------------------------------------------------------------------


@dataclass
class Score:
    turns: int
    cut: list[str]  # ids of turns ended at a mid-turn pause
    cut_kinds: dict[str, int]
    delays: list[float]  # ms from the true end to the end of the turn (turns not cut off)
    never: int  # turns that never ended within the clip (counted at the clip's end)

    @property
    def cutoff(self) -> float:
        return len(self.cut) / self.turns if self.turns else 0.0

    def delay(self, q: float) -> float:
        return percentile(self.delays, q)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks; NaN for nothing."""
    if not len(values):
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def where(turn: dict[str, Any], at: float) -> str:
    """Which pause a too-early end belongs to: the one before the words being said, since
    a listener only knows the person went on once it has heard the next words."""
    kind = "before speech"
    for seg in turn["segments"]:
        if at < seg["end_ms"]:
            break
        kind = seg.get("pause_after", {}).get("kind", "after the last phrase")
    return str(kind)


def score(turns: Sequence[dict[str, Any]], ends: dict[str, float | None]) -> Score:
    s = Score(len(turns), [], {}, [], 0)
    for turn in turns:
        end = ends[turn["id"]]
        if end is None:
            s.never += 1
            s.delays.append(turn["duration_ms"] - turn["true_end_ms"])
        elif end < turn["true_end_ms"]:
            s.cut.append(turn["id"])
            kind = where(turn, end)
            s.cut_kinds[kind] = s.cut_kinds.get(kind, 0) + 1
        else:
            s.delays.append(end - turn["true_end_ms"])
    return s
