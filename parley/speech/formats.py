"""Audio containers: which uploads Parley accepts and what their bytes really are."""

from __future__ import annotations

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
