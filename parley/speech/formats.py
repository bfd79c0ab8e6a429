"""Audio containers: which uploads Parley accepts and what their bytes really are."""

from __future__ import annotations

import struct
from typing import Literal

Container = Literal["mp4", "webm", "ogg", "wav", "mp3"]

# What browsers and tools label recordings with. iOS records audio/mp4, Chrome
# audio/webm;codecs=opus, Firefox audio/ogg;codecs=opus; Safari labels .m4a files
# audio/x-m4a and some tools still say audio/mp3 or audio/x-wav.
CONTAINERS: dict[str, Container] = {
    "audio/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "audio/m4a": "mp4",
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
# The one type each container is passed on as (OpenAI judges files by name and type).
MEDIA_TYPES: dict[Container, str] = {
    "mp4": "audio/mp4", "webm": "audio/webm", "ogg": "audio/ogg", "wav": "audio/wav",
    "mp3": "audio/mpeg",
}
# A label that says nothing about the format: the bytes decide.
UNLABELLED = frozenset({"", "application/octet-stream"})
EXTENSIONS: dict[Container, str] = {
    "mp4": "m4a", "webm": "webm", "ogg": "ogg", "wav": "wav", "mp3": "mp3"
}
# The first bytes needed to recognise every container below.
SNIFF_BYTES = 12


def base_type(content_type: str | None) -> str:
    """The media type without parameters, lower-case: `audio/webm;codecs=opus` -> `audio/webm`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def declared_container(content_type: str | None) -> Container | None:
    """The container a Content-Type names, or None when it names no accepted audio type."""
    return CONTAINERS.get(base_type(content_type))


def sniff(head: bytes) -> Container | None:
    """The container the first bytes of a file belong to, from their magic numbers."""
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM (and Matroska)
        return "webm"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "mp3"
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # 11 sync bits, then a layer other than 00: ADTS AAC shares the sync word with layer 00.
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


# ISO BMFF (MP4) boxes: a 32-bit size and a 4-byte type, or size 1 and a 64-bit size after
# the type, or size 0 for "to the end of the file".
_BOX_HEADER = 8
_LARGE_BOX_HEADER = 16
# More top-level boxes than any recording of a few minutes has (a fragment is two boxes).
MAX_TOP_LEVEL_BOXES = 4096


def without_repeated_boxes(data: bytes) -> bytes:
    """The MP4 with each top-level box that repeats the one just before it dropped.

    WebKitGTK's MediaRecorder (GStreamer's mp4mux/qtmux writing fragmented MP4 to a sink
    that cannot seek) appends its header rewrites instead of overwriting them: the `ftyp`
    comes twice, and so does the last fragment's `moof`, byte for byte. The first copy of
    that `moof` points its samples at the bytes after it, so FFmpeg (the offline Whisper's
    decoder) reads box bytes as AAC and gives up. Without the copies the file is ordinary
    fragmented MP4. Anything that does not parse as a run of whole boxes is left as it was.
    """
    view = memoryview(data)
    boxes: list[tuple[int, int]] = []  # (start, end) of each top-level box
    offset = 0
    while offset < len(data):
        end = _box_end(view, offset)
        if end is None or len(boxes) >= MAX_TOP_LEVEL_BOXES:
            return data
        boxes.append((offset, end))
        offset = end
    kept = [boxes[0]] if boxes else []
    for start, end in boxes[1:]:
        last_start, last_end = kept[-1]
        if view[start:end] != view[last_start:last_end]:
            kept.append((start, end))
    if len(kept) == len(boxes):
        return data
    return b"".join(view[start:end] for start, end in kept)


def _box_end(view: memoryview, offset: int) -> int | None:
    """Where the box starting at `offset` ends, or None when it is not a whole box."""
    if offset + _BOX_HEADER > len(view):
        return None
    size: int = struct.unpack_from(">I", view, offset)[0]
    header = _BOX_HEADER
    if size == 1:
        if offset + _LARGE_BOX_HEADER > len(view):
            return None
        size = struct.unpack_from(">Q", view, offset + _BOX_HEADER)[0]
        header = _LARGE_BOX_HEADER
    elif size == 0:
        size = len(view) - offset
    if size < header or offset + size > len(view):
        return None
    return offset + size
