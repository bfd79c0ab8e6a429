"""Assertions shared by the picture tests: refusals, and output with no metadata left."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PIL import Image

from parley import errors


@contextmanager
def refused(status: int, code: str) -> Iterator[pytest.ExceptionInfo[errors.ParleyError]]:
    """Expect a `ParleyError` with this HTTP status and code, and a message for a person."""
    with pytest.raises(errors.ParleyError) as caught:
        yield caught
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
    assert caught.value.message.endswith((".", ")")), "messages are sentences"


def reopen(data: bytes) -> Image.Image:
    """The output picture opened again, fully decoded."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    """No EXIF (so no GPS), no XMP, no ICC profile, no text chunks: only pixels."""
    image = reopen(data)
    assert not image.getexif(), dict(image.getexif())
    leftovers = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop"}
    assert not leftovers & set(image.info), image.info.keys()
    if image.format == "PNG":
        assert not getattr(image, "text", {}), "PNG text chunks"
    assert b"Exif\x00\x00" not in data
    assert b"xmpmeta" not in data
