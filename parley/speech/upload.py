"""Reading one recorded upload from a multipart body: in memory, counted while it arrives.

Starlette's form parser spools files to temporary files and leaves one open when a body
ends inside a part; a recording is at most a few MB, so the parts are simply kept in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from parley import errors

# Multipart framing (boundaries, part headers, the small text fields) on top of the file.
FORM_OVERHEAD = 64 * 1024
MAX_PARTS = 8
MAX_FIELD_BYTES = 1024
FILE_FIELD = "audio"


@dataclass(frozen=True, slots=True)
class Upload:
    audio: bytes
    content_type: str
    fields: dict[str, str]


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


class _Parts:
    """The parts of a multipart body, gathered by python-multipart's callbacks."""

    def __init__(self, boundary: bytes) -> None:
        self.parts: list[_Part] = []
        self.ended = False
        self._name = b""
        self._value = b""
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_part_data": self._data,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finish(self) -> None:
        self._parser.finalize()

    def _begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise _invalid()
        self.parts.append(_Part())

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self.parts[-1].headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].data += data[start:end]

    def _end(self) -> None:
        self.ended = True


def _invalid() -> errors.InvalidRequest:
    return errors.InvalidRequest(
        "The upload is not a valid multipart form. Send the file in the `audio` field."
    )


def too_large(max_audio_bytes: int) -> errors.PayloadTooLarge:
    """The 413 for a recording over the limit, in megabytes a person can relate to."""
    return errors.PayloadTooLarge(
        f"That recording is larger than {max_audio_bytes / 1_000_000:g} MB. "
        "Send shorter turns (about two minutes at most)."
    )


async def read_upload(
    headers: Mapping[str, str], body: AsyncIterator[bytes], *, max_audio_bytes: int
) -> Upload:
    """The `audio` file and the text fields; refuses a body over the limit before reading it."""
    content_type, options = parse_options_header(headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data":
        raise errors.UnsupportedMediaType(
            "Send the recording as multipart/form-data, with the file in the `audio` field."
        )
    limit = max_audio_bytes + FORM_OVERHEAD
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large(max_audio_bytes)
    if not boundary:
        raise _invalid()
    parts = _Parts(boundary)
    received = 0
    try:
        # A chunked upload has no Content-Length, and a client may send more than it declared.
        async for chunk in body:
            received += len(chunk)
            if received > limit:
                raise too_large(max_audio_bytes)
            parts.feed(chunk)
        parts.finish()
    except FormParserError:
        raise _invalid() from None
    if not parts.ended:
        raise _invalid()  # the body stopped before the closing boundary
    return _gather(parts.parts)


def _gather(parts: list[_Part]) -> Upload:
    audio: _Part | None = None
    fields: dict[str, str] = {}
    for part in parts:
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            if name == FILE_FIELD:
                audio = part
            continue
        if len(part.data) > MAX_FIELD_BYTES:
            raise errors.InvalidRequest(f"The `{name}` field is too long.")
        try:
            fields[name] = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.InvalidRequest(f"The `{name}` field is not UTF-8 text.") from None
    if audio is None:
        raise errors.InvalidRequest("Attach the recording as a file in the `audio` field.")
    content_type = audio.headers.get(b"content-type", b"").decode("latin-1")
    return Upload(bytes(audio.data), content_type, fields)
