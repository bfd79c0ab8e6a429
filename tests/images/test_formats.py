"""The real format comes from the bytes: what Parley takes, and a fitting refusal for the rest."""

from __future__ import annotations

import pytest

from parley.images.formats import NOT_A_PICTURE, ImageFormat, check_label, sniff
from tests.images import pictures
from tests.images.checks import refused


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO base media file: its `ftyp` box, then an empty `meta`."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    meta = b"\x00\x00\x00\x0cmeta\x00\x00\x00\x00"
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + meta


@pytest.mark.parametrize(("data", "expected"), [
    (pictures.encoded(pictures.photo_pixels(64, 48), "PNG"), ImageFormat.PNG),
    (pictures.encoded(pictures.photo_pixels(64, 48), "JPEG"), ImageFormat.JPEG),
    (pictures.encoded(pictures.photo_pixels(64, 48), "WEBP"), ImageFormat.WEBP),
    (pictures.encoded(pictures.photo_pixels(64, 48), "WEBP", lossless=True), ImageFormat.WEBP),
    (ftyp(b"heic", b"mif1", b"heic"), ImageFormat.HEIF),
    (ftyp(b"heix", b"mif1"), ImageFormat.HEIF),
    (ftyp(b"mif1", b"heic"), ImageFormat.HEIF),
    (ftyp(b"msf1", b"hevc"), ImageFormat.HEIF),
])
def test_formats_parley_takes(data: bytes, expected: ImageFormat) -> None:
    assert sniff(data) is expected


@pytest.mark.parametrize(("data", "says"), [
    (pictures.gif(), "GIFs"),
    (pictures.SVG_WITH_SCRIPT, "SVG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG"),
    (b"\xef\xbb\xbf<!-- exported -->\n<!DOCTYPE svg>\n<SVG>", "SVG"),
    (pictures.avif(), "AVIF"),
    (ftyp(b"avif", b"mif1", b"miaf"), "AVIF"),
    (ftyp(b"mif1", b"avif", b"miaf"), "AVIF"),  # generic brand first: still AVIF
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDFs"),
    (pictures.encoded(pictures.photo_pixels(16, 16), "TIFF"), "TIFF"),
    (pictures.encoded(pictures.photo_pixels(16, 16), "BMP"), "BMP"),
])
def test_known_formats_parley_refuses_say_what_to_send(data: bytes, says: str) -> None:
    with refused(415, "unsupported_image") as caught:
        sniff(data)
    assert says in caught.value.message


@pytest.mark.parametrize("data", [
    b"",
    pictures.TEXT_FILE,
    b"\x89PNG",  # the start of a signature is not one
    b"\xff\xd8",
    b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but audio
    ftyp(b"isom", b"mp41"),  # an MP4 video
    b"\x00" * 64,
])
def test_other_bytes_are_not_a_picture(data: bytes) -> None:
    with refused(415, "unsupported_image") as caught:
        sniff(data)
    assert caught.value.message == NOT_A_PICTURE


@pytest.mark.parametrize(("media_type", "actual"), [
    ("image/png", ImageFormat.PNG),
    ("image/jpeg", ImageFormat.JPEG),
    ("image/webp", ImageFormat.WEBP),
    ("image/heic", ImageFormat.HEIF),
    ("image/heif", ImageFormat.HEIF),
])
def test_a_truthful_label_passes(media_type: str, actual: ImageFormat) -> None:
    check_label(media_type, actual)


def test_a_label_that_lies_is_refused() -> None:
    with refused(415, "unsupported_image") as caught:
        check_label("image/png", ImageFormat.JPEG)
    assert "says it is a PNG but it is really a JPEG" in caught.value.message


@pytest.mark.parametrize("media_type", ["text/plain", "image/gif", "image/svg+xml",
                                        "application/octet-stream", "image/jpg"])
def test_other_labels_are_refused(media_type: str) -> None:
    with refused(415, "unsupported_image") as caught:
        check_label(media_type, ImageFormat.PNG)
    assert media_type in caught.value.message
