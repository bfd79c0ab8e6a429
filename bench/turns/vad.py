"""Frame-by-frame voice activity detectors for the recorder path, as they would run live.

Each detector takes 16 kHz float samples one hop at a time and says speech or not; times are
computed from sample counts, never from the clock.

- `SileroVad`: the Silero VAD v6 ONNX model that faster-whisper ships, run with onnxruntime
  one 32 ms frame at a time with its recurrent state carried over (streaming, not batched).
- `WebRtcVad`: Google's WebRTC VAD (GMM), from the `webrtcvad-wheels` package, 30 ms frames.
- `EnergyVad`: what `parley/web/js/voice/recorder.js` does today: RMS of the analyser's last
  1024 samples every 50 ms, against a floor that follows the quietest moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

RATE = 16_000
Audio = npt.NDArray[np.float32]


class Vad(Protocol):
    name: str
    hop: int  # samples per decision

    def reset(self) -> None:
        """Forget everything: a new recording starts."""
        ...

    def __call__(self, frame: Audio) -> bool:
        """Is this hop of samples speech?"""
        ...


class SileroVad:
    """Silero VAD v6 (faster-whisper's copy) with hysteresis: on at 0.5, off below 0.35."""

    name = "silero"
    hop = 512
    context = 64

    def __init__(self, threshold: float = 0.5, off: float = 0.35) -> None:
        from faster_whisper.vad import get_vad_model  # type: ignore[import-untyped]  # untyped

        self._session: Any = get_vad_model().session
        self.threshold, self.off = threshold, off
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._last = np.zeros(self.context, dtype=np.float32)
        self._speaking = False
        self.prob = 0.0

    def __call__(self, frame: Audio) -> bool:
        x = np.concatenate([self._last, frame]).astype(np.float32)[None, :]
        self._last = frame[-self.context :].astype(np.float32)
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self.prob = float(np.asarray(out).reshape(-1)[0])
        self._speaking = self.prob >= (self.off if self._speaking else self.threshold)
        return self._speaking


class WebRtcVad:
    """WebRTC VAD at the given aggressiveness (0-3), 30 ms frames."""

    hop = 480

    def __init__(self, mode: int = 3) -> None:
        import webrtcvad  # type: ignore[import-untyped, import-not-found, unused-ignore]  # optional

        self._vad: Any = webrtcvad.Vad(mode)
        self.name = f"webrtc-{mode}"

    def reset(self) -> None:
        pass  # the C VAD adapts as it goes; a fresh recording in the page would not reset it

    def __call__(self, frame: Audio) -> bool:
        pcm = np.clip(np.round(frame * 32767), -32768, 32767).astype("<i2").tobytes()
        return bool(self._vad.is_speech(pcm, RATE))


class EnergyVad:
    """recorder.js today: 50 ms ticks, RMS of the last 1024 samples at 48 kHz (21 ms)."""

    name = "energy (today)"
    hop = 800
    window = 341  # 1024 samples at 48 kHz, in 16 kHz samples
    speech_factor = 3.0
    min_level = 0.012
    floor_rise = 1.01

    def reset(self) -> None:
        self._floor = self.min_level

    def __init__(self) -> None:
        self.reset()

    def __call__(self, frame: Audio) -> bool:
        tail = frame[-self.window :]
        level = float(np.sqrt(np.mean(np.square(tail, dtype=np.float64))))
        self._floor = min(self._floor * self.floor_rise,
                          max(level, self.min_level / self.speech_factor))
        return level > max(self.min_level, self._floor * self.speech_factor)


def available() -> list[Vad]:
    """Every detector that can run here (WebRTC only when its package is installed)."""
    vads: list[Vad] = [SileroVad()]
    try:
        vads.append(WebRtcVad(3))
        vads.append(WebRtcVad(1))
    except ImportError:
        print("webrtcvad is not installed (pip install webrtcvad-wheels): skipping it")
    vads.append(EnergyVad())
    return vads


@dataclass(frozen=True)
class Frames:
    """One detector's decisions over a clip: frame i covers samples [i*hop, (i+1)*hop)."""

    hop: int
    speech: npt.NDArray[np.bool_]

    def end_ms(self, i: int) -> float:
        return (i + 1) * self.hop * 1000 / RATE

    def runs(self, value: bool) -> Iterator[tuple[float, float]]:
        """(start ms, end ms) of each run of frames equal to `value`."""
        s = self.speech if value else ~self.speech
        edges = np.flatnonzero(np.diff(np.concatenate([[0], s.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            yield a * self.hop * 1000 / RATE, b * self.hop * 1000 / RATE


def run(vad: Vad, audio: Audio) -> Frames:
    """Feed a whole clip through `vad` hop by hop, as a live stream would."""
    vad.reset()
    n = audio.size // vad.hop
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        out[i] = vad(audio[i * vad.hop : (i + 1) * vad.hop])
    return Frames(vad.hop, out)
