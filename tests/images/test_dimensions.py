"""Sizes come from the header alone, and agree with what Pillow reads."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from parley.images.dimensions import read_dimensions
from parley.images.formats import ImageFormat
from parley.images.heif import heif_available
from tests.images import pictures

needs_heif = pytest.mark.skipif(not heif_available(), reason="pillow-heif is not installed")


def small(width: int = 123, height: int = 45) -> Image.Image:
    return pictures.photo_pixels(width, height)


@pytest.mark.parametrize(("data", "image_format"), [
    (pictures.encoded(small(), "PNG"), ImageFormat.PNG),
    (pictures.encoded(small().convert("P"), "PNG"), ImageFormat.PNG),
    (pictures.encoded(small(), "JPEG"), ImageFormat.JPEG),
    (pictures.encoded(small(), "JPEG", progressive=True), ImageFormat.JPEG),
    (pictures.encoded(small(), "JPEG", exif=pictures.photo_exif(6)), ImageFormat.JPEG),
    (pictures.encoded(small(), "WEBP", quality=80), ImageFormat.WEBP),  # VP8
    (pictures.encoded(small(), "WEBP", lossless=True), ImageFormat.WEBP),  # VP8L
    (pictures.encoded(small(), "WEBP", exif=pictures.photo_exif(6)), ImageFormat.WEBP),  # VP8X
    (pictures.encoded(small().convert("RGBA"), "WEBP", quality=80), ImageFormat.WEBP),
])
def test_header_sizes_match_pillow(data: bytes, image_format: ImageFormat) -> None:
    assert read_dimensions(data, image_format) == Image.open(io.BytesIO(data)).size == (123, 45)


@needs_heif
def test_heif_size_is_the_pictures_not_a_tiles() -> None:
    data = pictures.heic_photo(640, 480, orientation=1)
    assert read_dimensions(data, ImageFormat.HEIF) == (640, 480)


def test_a_huge_png_header_is_read_without_decoding() -> None:
    assert read_dimensions(pictures.huge_png(), ImageFormat.PNG) == (50_000, 50_000)


def test_a_jpeg_whose_frame_header_comes_after_a_big_exif_block() -> None:
    exif = pictures.photo_exif(1)
    exif[0x010E] = "x" * 60_000  # ImageDescription: APP1 nearly full
    data = pictures.encoded(small(), "JPEG", exif=exif)
    assert read_dimensions(data, ImageFormat.JPEG) == (123, 45)


@pytest.mark.parametrize(("data", "image_format"), [
    (b"\x89PNG\r\n\x1a\n", ImageFormat.PNG),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x00\x00\x00\x00\x01", ImageFormat.PNG),
    (b"\xff\xd8\xff", ImageFormat.JPEG),
    (b"\xff\xd8\xff\xda\x00\x02", ImageFormat.JPEG),  # scan data before any frame header
    (b"\xff\xd8\xff\xe1\xff\xff", ImageFormat.JPEG),  # a segment running past the end
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ImageFormat.WEBP),
    (b"\x00\x00\x00\x10ftypheic\x00\x00\x00\x00", ImageFormat.HEIF),  # no meta box
])
def test_unreadable_headers_give_none(data: bytes, image_format: ImageFormat) -> None:
    assert read_dimensions(data, image_format) is None


@settings(max_examples=300)
@given(st.sampled_from(list(ImageFormat)), st.binary(max_size=300))
def test_any_bytes_give_a_size_or_none(image_format: ImageFormat, tail: bytes) -> None:
    magic = {ImageFormat.PNG: b"\x89PNG\r\n\x1a\n", ImageFormat.JPEG: b"\xff\xd8",
             ImageFormat.WEBP: b"RIFF\x00\x00\x00\x00WEBP",
             ImageFormat.HEIF: b"\x00\x00\x00\x10ftypheic\x00\x00\x00\x00"}[image_format]
    size = read_dimensions(magic + tail, image_format)
    assert size is None or (size[0] > 0 and size[1] > 0)
