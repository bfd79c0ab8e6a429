"""Upload labels and magic bytes."""

from __future__ import annotations

import pytest

from parley.speech.formats import (
    MAX_TOP_LEVEL_BOXES,
    base_type,
    declared_container,
    sniff,
    without_repeated_boxes,
)
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


def box(kind: bytes, body: bytes = b"") -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


FTYP = box(b"ftyp", b"M4A \0\0\0\0isomiso2")


@pytest.mark.parametrize("name", ["mp4", "mp4-fragmented"])
def test_an_ordinary_mp4_recording_is_left_exactly_as_it_is(name: str) -> None:
    audio = recorded(name)
    assert without_repeated_boxes(audio) is audio


def test_a_box_repeated_right_after_itself_is_dropped_but_not_one_repeated_later() -> None:
    moof, mdat = box(b"moof", b"\x01" * 16), box(b"mdat", b"\x02" * 32)
    audio = FTYP + FTYP + moof + mdat + moof + moof + mdat
    assert without_repeated_boxes(audio) == FTYP + moof + mdat + moof + mdat
    same_kind = box(b"moof", b"\x03" * 16)  # the same type with other bytes is not a copy
    assert without_repeated_boxes(FTYP + moof + same_kind) == FTYP + moof + same_kind


def test_64_bit_sizes_and_a_last_box_to_the_end_of_the_file_are_read() -> None:
    large = (1).to_bytes(4, "big") + b"free" + (24).to_bytes(8, "big") + b"\x07" * 8
    to_end = (0).to_bytes(4, "big") + b"mdat" + b"\x09" * 20
    assert without_repeated_boxes(FTYP + large + large + to_end) == FTYP + large + to_end


@pytest.mark.parametrize(
    "broken",
    [
        FTYP + FTYP + b"\0\0\0",  # a few stray bytes at the end
        FTYP + FTYP + (4).to_bytes(4, "big") + b"moov",  # a size smaller than its header
        FTYP + FTYP + (999).to_bytes(4, "big") + b"moov" + b"\0" * 8,  # past the end
        FTYP + FTYP + (1).to_bytes(4, "big") + b"moov" + b"\0" * 4,  # a cut 64-bit size
        FTYP + FTYP + (1).to_bytes(4, "big") + b"moov" + (8).to_bytes(8, "big"),  # too small
        b"",
    ],
)
def test_anything_that_does_not_parse_as_whole_boxes_is_left_as_it_was(broken: bytes) -> None:
    assert without_repeated_boxes(broken) == broken


def test_the_walk_is_bounded() -> None:
    many = FTYP * (MAX_TOP_LEVEL_BOXES + 1)
    assert without_repeated_boxes(many) == many
    assert without_repeated_boxes(FTYP * MAX_TOP_LEVEL_BOXES) == FTYP
