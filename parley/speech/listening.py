"""One live turn on the recorder path: PCM frames in, speech and pause events out.

The page streams the microphone as 16 kHz 16-bit mono PCM (an AudioWorklet) and decides
itself when the turn is over (`voice/turn-end.js` reads the words and the pauses); this is
the ear it relies on. Times are counted in samples, never by the clock, so the same audio
always gives the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parley import errors
from parley.speech.base import too_long_message

RATE = 16_000
FRAME = 512
PAUSE_MS = 200  # silence after speech that counts as a pause (the page decides what it means)
KEEP_BEFORE_MS = 200  # trimmed audio keeps this much before the first speech...
KEEP_AFTER_MS = 300  # ...and after the last
Audio = npt.NDArray[np.float32]
Vad = Callable[[Audio], bool]


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "speech" (began) or "pause" (began)
    at_ms: float
    # For a pause: the speech since the last pause, for a quick look at its words.
    audio: Audio | None = None
    spoke_at_ms: float = 0.0


class Listening:
    """Feeds frames to a VAD; remembers the turn's audio; trims the silence around speech."""

    def __init__(self, vad: Vad, *, max_seconds: float) -> None:
        self._vad = vad
        self._max_samples = int(max_seconds * RATE)
        self._max_seconds = max_seconds
        self._frames: list[Audio] = []
        self._pending = np.zeros(0, dtype=np.float32)
        self.samples = 0
        self.first_speech: int | None = None
        self.last_speech: int | None = None
        self._paused = True
        self._phrase_start = 0

    def feed(self, pcm: bytes) -> list[Event]:
        """The events these bytes (little-endian int16) bring; 422 past the length cap."""
        if len(pcm) % 2:
            raise errors.AudioUnreadable("The audio stream was not 16-bit samples.")
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        if self.samples + self._pending.size + audio.size > self._max_samples:
            raise errors.AudioTooLong(too_long_message(self._max_seconds))
        self._pending = np.concatenate([self._pending, audio])
        events: list[Event] = []
        while self._pending.size >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            events += self._frame(frame)
        return events

    def _frame(self, frame: Audio) -> list[Event]:
        self._frames.append(frame)
        speaking = self._vad(frame)
        self.samples += frame.size
        if speaking:
            self.last_speech = self.samples
            if self.first_speech is None:
                self.first_speech = self.samples - frame.size
            if self._paused:
                self._paused = False
                self._phrase_start = self.samples - frame.size
                return [Event("speech", _ms(self.samples - frame.size))]
            return []
        if not self._paused and self.last_speech is not None \
                and _ms(self.samples - self.last_speech) >= PAUSE_MS:
            self._paused = True
            phrase = self.audio(self._phrase_start, self.last_speech)
            return [Event("pause", _ms(self.samples), phrase, _ms(self.last_speech))]
        return []

    def audio(self, start: int = 0, end: int | None = None) -> Audio:
        """The samples from `start` to `end` (the whole turn by default)."""
        whole = np.concatenate(self._frames) if self._frames else np.zeros(0, np.float32)
        return whole[start:end]

    def trimmed(self) -> Audio:
        """The turn without the silence before the first speech and after the last."""
        if self.first_speech is None or self.last_speech is None:
            return np.zeros(0, dtype=np.float32)
        start = max(0, self.first_speech - KEEP_BEFORE_MS * RATE // 1000)
        end = self.last_speech + KEEP_AFTER_MS * RATE // 1000
        return self.audio(start, end)

    @property
    def heard_speech(self) -> bool:
        return self.first_speech is not None


def _ms(samples: int) -> float:
    return round(samples * 1000 / RATE, 1)
