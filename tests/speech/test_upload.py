"""Reading a multipart upload in memory, with its size counted as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley import errors
from parley.speech.upload import FORM_OVERHEAD, read_upload

BOUNDARY = "parley-boundary"
HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def part(name: str, value: bytes, filename: str | None = None, kind: str = "audio/wav") -> bytes:
    disposition = f'form-data; name="{name}"'
    extra = ""
    if filename is not None:
        disposition += f'; filename="{filename}"'
        extra = f"Content-Type: {kind}\r\n"
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n"
    return head.encode() + value + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_the_file_and_text_fields_are_read() -> None:
    audio = b"RIFF" + bytes(range(256)) * 20
    body = form(part("language", b"en-US"), part("audio", audio, "q.wav", "audio/wav"),
                part("apiKey", b"sk-1234"))
    upload = await read_upload(HEADERS, chunks(body), max_audio_bytes=10_000)
    assert upload.audio == audio and upload.content_type == "audio/wav"
    assert upload.fields == {"language": "en-US", "apiKey": "sk-1234"}


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""

    headers = {**HEADERS, "content-length": str(10_000 + FORM_OVERHEAD + 1)}
    with pytest.raises(errors.PayloadTooLarge):
        await read_upload(headers, never(), max_audio_bytes=10_000)


async def test_an_undeclared_body_is_cut_off_at_the_limit() -> None:
    body = form(part("audio", bytes(200_000), "q.wav"))
    with pytest.raises(errors.PayloadTooLarge, match="MB"):
        await read_upload(HEADERS, chunks(body), max_audio_bytes=10_000)


@pytest.mark.parametrize(
    "body",
    [
        part("audio", b"RIFF....", "q.wav"),  # no closing boundary: the body was cut short
        b"not multipart at all",
        form(*[part(f"f{i}", b"x") for i in range(9)], part("audio", b"RIFF", "q.wav")),
        form(part("audio", b"RIFF")),  # a text field, not a file
        form(part("other", b"RIFF", "q.wav")),
        form(part("language", bytes([0xFF, 0xFE])), part("audio", b"RIFF", "q.wav")),
        form(part("language", b"x" * 2000), part("audio", b"RIFF", "q.wav")),
    ],
    ids=["truncated", "garbage", "too-many-parts", "not-a-file", "wrong-name", "not-utf8",
         "long-field"],
)
async def test_malformed_forms_are_invalid_requests(body: bytes) -> None:
    with pytest.raises(errors.InvalidRequest):
        await read_upload(HEADERS, chunks(body), max_audio_bytes=10_000)


@pytest.mark.parametrize(
    "content_type", ["application/json", "", "multipart/mixed; boundary=x", "text/plain"]
)
async def test_other_body_types_are_unsupported(content_type: str) -> None:
    with pytest.raises(errors.UnsupportedMediaType):
        await read_upload({"content-type": content_type}, chunks(b"{}"), max_audio_bytes=10_000)


async def test_a_multipart_type_without_a_boundary_is_invalid() -> None:
    with pytest.raises(errors.InvalidRequest):
        await read_upload({"content-type": "multipart/form-data"}, chunks(b"--x"),
                          max_audio_bytes=10_000)
