"""A picture end to end: what goes upstream is re-encoded, small, upright and metadata-free."""

from __future__ import annotations

import asyncio
import base64
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from parley import errors
from parley.images import (
    DEFAULT_LIMITS,
    ImageFormat,
    PreparedImage,
    check_request,
    prepare_all,
    prepare_image,
    prepare_request,
)
from parley.images.heif import heif_available
from tests.images import pictures
from tests.images.checks import assert_no_metadata, refused, reopen

needs_heif = pytest.mark.skipif(not heif_available(), reason="pillow-heif is not installed")


def photo_url() -> str:
    return pictures.data_url(pictures.phone_photo(), "image/jpeg")


def assert_upright_mark(image: Image.Image, corner: str) -> None:
    """The red block the photo stored at its top-left corner is at `corner` now."""
    x = 2 if corner.endswith("left") else image.width - 3
    y = 2 if corner.startswith("top") else image.height - 3
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    assert pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60, pixel


# ---------------------------------------------------------------------------------------------
# What goes upstream


def test_a_phone_photo_loses_gps_and_exif_and_comes_out_upright_and_small() -> None:
    original = pictures.phone_photo()
    assert b"Exif" in original and b"Berlin studio" in original  # the fixture has them
    prepared = prepare_image(photo_url())

    assert prepared.media_type == "image/jpeg"
    assert (prepared.width, prepared.height) == (1512, 2016)  # orientation 6: turned upright
    assert max(prepared.width, prepared.height) <= 2048
    assert len(prepared.data) < 500_000 < len(original)
    assert (prepared.source_format, prepared.source_bytes) == (ImageFormat.JPEG, len(original))
    assert (prepared.source_width, prepared.source_height) == (4032, 3024)
    image = reopen(prepared.data)
    assert (image.format, image.size) == ("JPEG", (1512, 2016))
    assert_upright_mark(image, "top-right")
    assert_no_metadata(prepared.data)
    assert b"Berlin" not in prepared.data and b"iPhone" not in prepared.data


def test_a_ui_screenshot_goes_as_png_under_the_cap() -> None:
    prepared = prepare_image(pictures.data_url(pictures.ui_screenshot(), "image/png"))
    assert prepared.media_type == "image/png"
    assert (prepared.width, prepared.height) == (2048, 1280)
    assert len(prepared.data) < 500_000
    assert_no_metadata(prepared.data)


def test_a_png_with_alpha_keeps_it() -> None:
    prepared = prepare_image(pictures.data_url(pictures.alpha_png(), "image/png"))
    assert prepared.media_type == "image/png"
    assert reopen(prepared.data).mode == "RGBA"


def test_a_webp_photo_goes_as_jpeg_upright() -> None:
    prepared = prepare_image(pictures.data_url(pictures.webp_photo(), "image/webp"))
    assert prepared.media_type == "image/jpeg"
    assert (prepared.width, prepared.height) == (1365, 2048)  # orientation 8 on 3000 x 2000
    assert_upright_mark(reopen(prepared.data), "bottom-left")
    assert_no_metadata(prepared.data)


def test_a_lossless_webp_screenshot_goes_as_png() -> None:
    prepared = prepare_image(pictures.data_url(pictures.webp_screenshot(), "image/webp"))
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/png", 1600, 1000)


@needs_heif
@pytest.mark.parametrize("media_type", ["image/heic", "image/heif"])
def test_a_heic_photo_goes_as_jpeg_upright_without_gps(media_type: str) -> None:
    original = pictures.heic_photo()
    prepared = prepare_image(pictures.data_url(original, media_type))
    assert prepared.media_type == "image/jpeg"
    assert prepared.source_format is ImageFormat.HEIF
    assert (prepared.width, prepared.height) == (480, 640)
    assert_upright_mark(reopen(prepared.data), "top-right")
    assert_no_metadata(prepared.data)


def test_the_content_part_is_openais_shape_with_the_clean_bytes() -> None:
    prepared = prepare_image(pictures.data_url(pictures.alpha_png(), "image/png"))
    part = prepared.content_part()
    assert part == {"type": "image_url", "image_url": {"url": prepared.data_url}}
    header, payload = prepared.data_url.split(",", 1)
    assert header == "data:image/png;base64"
    assert base64.b64decode(payload) == prepared.data


def test_repr_leaves_the_bytes_out() -> None:
    prepared = prepare_image(pictures.data_url(pictures.alpha_png(), "image/png"))
    assert "data=" not in repr(prepared) and "1200" in repr(prepared)


# ---------------------------------------------------------------------------------------------
# What is refused, and how


@pytest.mark.parametrize(("data", "media_type", "status", "code"), [
    (pictures.truncated_jpeg(), "image/jpeg", 415, "unsupported_image"),
    (pictures.SVG_WITH_SCRIPT, "image/svg+xml", 415, "unsupported_image"),
    (pictures.SVG_WITH_SCRIPT, "image/png", 415, "unsupported_image"),
    (pictures.gif(), "image/gif", 415, "unsupported_image"),
    (pictures.gif(), "image/png", 415, "unsupported_image"),
    (pictures.TEXT_FILE, "image/png", 415, "unsupported_image"),
    (pictures.avif(), "image/avif", 415, "unsupported_image"),
    (pictures.avif(), "image/heic", 415, "unsupported_image"),
    (pictures.phone_photo(), "image/png", 415, "unsupported_image"),  # the label lies
    (pictures.huge_png(), "image/png", 422, "image_too_large"),
    (b"\x89PNG\r\n\x1a\n" + bytes(5_000_000), "image/png", 413, "payload_too_large"),
], ids=["truncated-jpeg", "svg", "svg-as-png", "gif", "gif-as-png", "text-as-png", "avif",
        "avif-as-heic", "jpeg-as-png", "50k-by-50k-png", "over-5-mb"])
def test_refusals(data: bytes, media_type: str, status: int, code: str) -> None:
    with refused(status, code):
        prepare_image(pictures.data_url(data, media_type))


def test_a_50k_by_50k_png_is_refused_from_its_header() -> None:
    data = pictures.huge_png()
    assert len(data) < 200  # decoding it would take 2.5 GB: the refusal cannot have tried
    with refused(422, "image_too_large") as caught:
        prepare_image(pictures.data_url(data, "image/png"))
    assert caught.value.message == (
        "That picture is 50,000 \u00d7 50,000 pixels; Parley takes up to 40 megapixels. "
        "Send a screenshot or a smaller photo."
    )


def test_a_picture_whose_header_cannot_be_read_is_refused() -> None:
    with refused(415, "unsupported_image"):
        prepare_image(pictures.data_url(b"\xff\xd8\xff\xdb\x00\x04\x00\x00", "image/jpeg"))


def _small(image_format: str) -> bytes:
    """A small picture with EXIF and a colour profile: the metadata that damage breaks most."""
    return pictures.encoded(pictures.photo_pixels(48, 32), image_format,
                            exif=pictures.photo_exif(6), icc_profile=pictures.rgb_profile())


SMALL = {"png": _small("PNG"), "jpeg": _small("JPEG"), "webp": _small("WEBP")}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SMALL)), st.data())
def test_damaged_pictures_are_refused_or_read_never_crash(kind: str, data: st.DataObject) -> None:
    damaged = bytearray(SMALL[kind])
    for _ in range(data.draw(st.integers(1, 8))):
        # Mostly in the first 1.5 KB: the headers, the EXIF block and the colour profile.
        at = data.draw(st.integers(0, min(len(damaged), 1500) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(8, len(damaged)))
    url = pictures.data_url(bytes(damaged[:cut]), f"image/{kind}")
    with warnings.catch_warnings():
        # Pillow warns about some damage (corrupt EXIF) and reads on: fine for Parley too.
        warnings.simplefilter("ignore")
        try:
            prepared = prepare_image(url)
        except (errors.UnsupportedImage, errors.ImageTooLarge):
            return
    assert_no_metadata(prepared.data)


# ---------------------------------------------------------------------------------------------
# A whole request


def test_a_request_within_the_caps_prepares_every_turns_pictures_in_order() -> None:
    alpha = pictures.data_url(pictures.alpha_png(), "image/png")
    lists = [[alpha], [], [alpha, photo_url()]]
    prepared = prepare_all(lists)
    assert [[p.media_type for p in turn] for turn in prepared] == [
        ["image/png"], [], ["image/png", "image/jpeg"],
    ]


def test_nine_pictures_are_refused_before_any_is_decoded() -> None:
    # None of these is even a data URL: a 422 for the count means none was looked at.
    with refused(422, "invalid_request") as caught:
        check_request([["not a picture"] * 4, ["not a picture"] * 4, ["not a picture"]])
    assert isinstance(caught.value, errors.TooManyImages)


def test_five_in_one_turn_are_refused() -> None:
    with refused(422, "invalid_request"):
        check_request([["not a picture"] * 5])


def test_an_oversized_picture_is_refused_before_any_is_decoded() -> None:
    oversized = "data:image/png;base64," + "!" * 7_000_000  # not valid base64 either
    with refused(413, "payload_too_large"):
        check_request([[photo_url()], [oversized]])


async def test_prepare_request_decodes_off_the_event_loop() -> None:
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    before = ticks
    prepared = await prepare_request([[photo_url()]])
    during = ticks - before
    done.set()
    await ticker
    assert isinstance(prepared[0][0], PreparedImage)
    assert prepared[0][0].data == prepare_image(photo_url()).data  # deterministic
    # The loop kept turning while the 12-megapixel photo decoded in a worker thread.
    assert during > 1


async def test_prepare_request_refuses_counts_without_a_thread() -> None:
    with refused(422, "invalid_request"):
        await prepare_request([["x"] * 9])


def test_limits_are_the_contracts_by_default() -> None:
    assert DEFAULT_LIMITS.per_turn == 4 and DEFAULT_LIMITS.max_side == 2048
