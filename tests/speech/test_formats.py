"""Upload labels and magic bytes."""

from __future__ import annotations

import pytest

from parley.speech.formats import base_type, declared_container, sniff
from tests.speech.audio import RECORDINGS, recorded, silent_wav


@pytest.mark.parametrize(
    ("label", "container"),
    [
        ("audio/mp4", "mp4"),
        ("audio/webm;codecs=opus", "webm"),
        ("Audio/WebM; codecs=\"opus\"", "webm"),
        ("audio/ogg; codecs=opus", "ogg"),
        ("audio/x-wav", "wav"),
        ("audio/wave", "wav"),
        ("audio/mpeg", "mp3"),
        ("audio/x-m4a", "mp4"),
        ("video/mp4", None),
        ("text/plain", None),
        ("", None),
        (None, None),
    ],
)
def test_declared_container_reads_the_label_without_parameters(
    label: str | None, container: str | None
) -> None:
    assert declared_container(label) == container


def test_base_type_drops_parameters() -> None:
    assert base_type(" audio/webm ; codecs=opus") == "audio/webm"


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_sniff_recognises_every_recorder_format(name: str) -> None:
    assert sniff(recorded(name)[:12]) == RECORDINGS[name].container


@pytest.mark.parametrize(
    "head",
    [b"", b"garbage bytes", b"\x00\x00\x00\x18mdat", b"\xff\xf1\x50\x80", b"RIFF\0\0\0\0AVI "],
)
def test_sniff_rejects_what_is_not_accepted_audio(head: bytes) -> None:
    # ADTS AAC (0xFFF1) shares MP3's sync word but not its layer bits; RIFF AVI is not WAVE.
    assert sniff(head) is None


def test_sniff_accepts_a_bare_mpeg_frame_and_a_silent_wav() -> None:
    assert sniff(b"\xff\xfb\x90\x64") == "mp3"
    assert sniff(silent_wav(0)[:12]) == "wav"
