"""Decoding uploads with PyAV: every recorder format, and every way a file can be broken."""

from __future__ import annotations

import pytest

from parley import errors
from parley.speech.codec import decode_mono, probe_duration_ms
from parley.speech.formats import Container
from tests.speech.audio import RECORDINGS, recorded, silent_wav

SPOKEN_MS = 2_430  # how long espeak-ng takes to say the question


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_every_recorder_format_decodes_to_16k_mono(name: str) -> None:
    samples = decode_mono(
        recorded(name), RECORDINGS[name].container, sample_rate=16_000, max_seconds=60
    )
    assert samples.dtype.name == "float32" and samples.ndim == 1
    # Codecs add a little padding; the length is the spoken length give or take 100 ms.
    assert abs(samples.size / 16 - SPOKEN_MS) < 100
    assert 0.05 < float(abs(samples).max()) <= 1.0


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_duration_is_found_even_when_the_file_does_not_say(name: str) -> None:
    # Chrome's live WebM has no duration in its header; the packets still add up.
    duration = probe_duration_ms(recorded(name), RECORDINGS[name].container)
    assert duration is not None and abs(duration - SPOKEN_MS) < 150


@pytest.mark.parametrize(
    ("data", "container"),
    [
        (b"", "wav"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8, "mp4"),
        (b"\x1a\x45\xdf\xa3" + b"x" * 500, "webm"),
        (b"OggS" + bytes(300), "ogg"),
        (b"ID3" + bytes(300), "mp3"),
        (silent_wav(1.0), "mp3"),  # a WAV file read as MP3
    ],
)
def test_broken_files_are_unreadable_not_crashes(data: bytes, container: Container) -> None:
    with pytest.raises(errors.AudioUnreadable):
        decode_mono(data, container, sample_rate=16_000, max_seconds=60)


def test_a_file_with_no_samples_is_unreadable() -> None:
    with pytest.raises(errors.AudioUnreadable, match="no sound"):
        decode_mono(silent_wav(0), "wav", sample_rate=16_000, max_seconds=60)


def test_a_truncated_mp4_is_unreadable() -> None:
    audio = recorded("mp4")
    with pytest.raises(errors.AudioUnreadable):
        decode_mono(audio[: len(audio) // 3], "mp4", sample_rate=16_000, max_seconds=60)


def test_recordings_past_the_length_limit_are_refused() -> None:
    # 422 audio_too_long: the offline engine never decodes past the cap.
    with pytest.raises(errors.AudioTooLong, match="longer than 2 seconds"):
        decode_mono(silent_wav(3.0), "wav", sample_rate=16_000, max_seconds=2.0)
