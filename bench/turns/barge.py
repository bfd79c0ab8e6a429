"""Barge-in: what the page would ask `isBackchannel` while Parley speaks, and when.

Each clip becomes a list of queries [text or None, speechMs, atMs]; the Node driver answers
with the first one that is an interruption. `atMs` counts from the start of the clip.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from bench.turns.corpus import RATE, SEED, Audio
from bench.turns.simulate import (
    FINAL_LAG_MS,
    INTERIM_LAG_MS,
    PAUSE_EVENT_MS,
    SPEECHSTART_LAG_MS,
    Words,
    chrome_words,
)
from bench.turns.vad import Frames

Query = tuple[str | None, float, float]
# While a transcript is on its way, a sound this long stops Parley anyway.
WORDS_PATIENCE_MS = 1500.0
PARTIAL_EVERY_MS = 1000.0  # a transcript is asked for at each pause, or this often in speech


def browser_queries(clip: dict[str, Any], index: int) -> list[Query]:
    """Chrome: an interim result per word, then a final. No words for a cough or a laugh
    (assumed: Chrome does not transcribe them), so no queries at all."""
    rng = np.random.default_rng([SEED, 11, index])
    queries: list[Query] = []
    said: list[str] = []
    start = clip["start_ms"] + SPEECHSTART_LAG_MS
    at = 0.0
    for w in clip["words"]:
        said += chrome_words(w["w"])
        if not said:
            continue
        at = max(at + 1, w["end"] + float(rng.uniform(*INTERIM_LAG_MS)))
        queries.append((" ".join(said), max(0.0, at - start), at))
    if said:
        at = max(at + 1, clip["end_ms"] + float(rng.uniform(*FINAL_LAG_MS)))
        queries.append((" ".join(said), clip["end_ms"] - start, at))
    return queries


def today_browser(clip: dict[str, Any]) -> bool:
    """talk.js today: two or more words (not Parley's own) stop Parley."""
    return len(re.findall(r"[a-z']+", " ".join(w["w"] for w in clip["words"]).lower())) >= 2


def recorder_queries(frames: Frames, audio: Audio, words: Words | None) -> list[Query]:
    """A VAD on the recorded sound, and optionally quick transcripts of it.

    Without words: every speech frame asks with the speech heard so far. With words: a
    transcript is asked for at each pause (or every second of speech) and the page waits for
    it, unless the sound goes on past WORDS_PATIENCE_MS.
    """
    hop_ms = frames.hop * 1000 / RATE
    queries: list[Query] = []
    speech_ms = 0.0
    onset: float | None = None
    asked_at = 0.0  # speech_ms when the last transcript was asked for
    pending: list[tuple[float, str]] = []  # (arrives at, words) of transcripts on the way
    quiet = 0.0
    for i, speech in enumerate(frames.speech):
        now = frames.end_ms(i)
        if speech:
            onset = now - hop_ms if onset is None else onset
            speech_ms += hop_ms
            quiet = 0.0
        else:
            quiet += hop_ms
        if onset is None:
            continue
        if words is None:
            if speech:
                queries.append((None, speech_ms, now))
            continue
        pause_now = not speech and quiet >= PAUSE_EVENT_MS and speech_ms > asked_at
        if pause_now or speech_ms - asked_at >= PARTIAL_EVERY_MS:
            a = max(0, int((onset - 200) * RATE / 1000))
            b = int(now * RATE / 1000)
            text = words.transcribe(audio[a:b])
            pending.append((now + words.cost_ms(b - a), text))
            asked_at = speech_ms
            words.calls += 1
            words.texts.append(text)
        while pending and pending[0][0] <= now:
            queries.append((pending.pop(0)[1], speech_ms, now))
        if pending and speech and speech_ms >= WORDS_PATIENCE_MS:
            queries.append((None, speech_ms, now))
    return queries
