"""A recording made by WebKitGTK's MediaRecorder (tests/data/webkit-recording.mp4).

WebKitGTK 2.50 (GStreamer 1.22) records `audio/mp4` as fragmented MP4 with two top-level
boxes written twice: the `ftyp`, and the last fragment's `moof` (byte for byte the same, the
muxer's header rewrite appended to a sink that cannot seek). The first copy of that `moof`
points its samples at the second copy, so FFmpeg demuxes box bytes as AAC and the decoder
stops with InvalidDataError. Dropping a box identical to the one before it leaves legal
fragmented MP4 (ftyp, moov+mvex, moof/mdat pairs) that decodes whole.

The sample: 2 s of WebKit's mock microphone (a tone with a beep each second), captured by
tests/webkit/test_recorder.py, which keeps each new one in test-artifacts/webkit/.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from parley.speech.codec import decode_mono
from parley.speech.formats import without_repeated_boxes
from tests.live import ROOT

SAMPLE = ROOT / "tests" / "data" / "webkit-recording.mp4"
RATE = 16_000


def top_level_boxes(data: bytes) -> Iterator[bytes]:
    """Each top-level ISO BMFF box, whole (written apart from Parley's own reader)."""
    offset = 0
    while offset + 8 <= len(data):
        (size,) = struct.unpack(">I", data[offset:offset + 4])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8:offset + 16])
        elif size == 0:
            size = len(data) - offset
        if size < 8 or offset + size > len(data):
            raise ValueError(f"a broken box at byte {offset}")
        yield data[offset:offset + size]
        offset += size


def kinds(data: bytes) -> list[str]:
    return [box[4:8].decode("latin-1") for box in top_level_boxes(data)]


def test_webkitgtk_repeats_the_ftyp_and_the_last_moof() -> None:
    recording = SAMPLE.read_bytes()
    assert kinds(recording) == ["ftyp", "ftyp", "moov", "moof", "mdat", "moof", "moof", "mdat"]


def test_parley_drops_the_repeated_boxes_and_keeps_the_rest_byte_for_byte() -> None:
    recording = SAMPLE.read_bytes()
    repaired = without_repeated_boxes(recording)
    assert kinds(repaired) == ["ftyp", "moov", "moof", "mdat", "moof", "mdat"]
    boxes = list(top_level_boxes(recording))
    assert repaired == b"".join(boxes[:1] + boxes[2:6] + boxes[7:])
    assert without_repeated_boxes(repaired) == repaired


def test_parley_decodes_a_webkitgtk_recording_once_repaired() -> None:
    repaired = without_repeated_boxes(SAMPLE.read_bytes())
    samples = decode_mono(repaired, "mp4", sample_rate=RATE, max_seconds=60)
    # Two fragments: 43 + 35 AAC frames of 1024 samples at 44.1 kHz, about 1.81 s.
    assert abs(samples.size / RATE - 1.81) < 0.05
    assert float(abs(samples).max()) > 0.05  # the mock microphone's tone, not silence
