"""Decoding yields upright sRGB pixels, at most 2048 px long, with no metadata left."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from parley.images.decode import DAMAGED, decode
from parley.images.formats import ImageFormat
from parley.images.limits import DEFAULT_LIMITS, ImageLimits
from tests.images import pictures
from tests.images.checks import refused

# Where the stored top-left corner ends up once each EXIF orientation is applied, and
# whether width and height swap (orientations 5 to 8 turn the picture a quarter).
CORNER = {1: "top-left", 2: "top-right", 3: "bottom-right", 4: "bottom-left",
          5: "top-left", 6: "top-right", 7: "bottom-right", 8: "bottom-left"}


def corner_colour(image: Image.Image, corner: str) -> tuple[int, ...]:
    width, height = image.size
    x = 2 if corner.endswith("left") else width - 3
    y = 2 if corner.startswith("top") else height - 3
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


def is_mark(colour: tuple[int, ...]) -> bool:
    red, green, blue = colour[:3]
    return red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation: int) -> None:
    data = pictures.encoded(pictures.photo_pixels(400, 300), "JPEG", quality=95,
                            exif=pictures.photo_exif(orientation))
    image = decode(data, ImageFormat.JPEG, DEFAULT_LIMITS)
    assert image.size == ((300, 400) if orientation >= 5 else (400, 300))
    marked = [corner for corner in set(CORNER.values())
              if is_mark(corner_colour(image, corner))]
    assert marked == [CORNER[orientation]]


def test_a_phone_photo_decodes_small_and_upright_through_draft_mode() -> None:
    image = decode(pictures.phone_photo(), ImageFormat.JPEG, DEFAULT_LIMITS)
    # 4032 x 3024 turned upright, decoded at half scale: no resampling needed after.
    assert image.size == (1512, 2016)
    assert image.mode == "RGB"
    assert is_mark(corner_colour(image, "top-right"))
    assert image.info == {}
    assert not image.getexif()


def test_a_jpeg_too_small_for_draft_mode_is_resampled_to_the_cap() -> None:
    data = pictures.encoded(pictures.photo_pixels(2600, 1950), "JPEG", quality=90)
    assert decode(data, ImageFormat.JPEG, DEFAULT_LIMITS).size == (2048, 1536)


@pytest.mark.parametrize(("size", "expected"), [
    ((2560, 1600), (2048, 1280)),
    ((1600, 2560), (1280, 2048)),
    ((2048, 100), (2048, 100)),
    ((800, 600), (800, 600)),  # never upscaled
    # A whole-factor box average when it keeps at least 3/4 of the cap, instead of Lanczos:
    ((4096, 2304), (2048, 1152)),
    ((5120, 2880), (1707, 960)),
    ((9000, 10), (1800, 2)),
])
def test_long_side_is_capped(size: tuple[int, int], expected: tuple[int, int]) -> None:
    data = pictures.encoded(pictures.ui_pixels(*size), "PNG")
    assert decode(data, ImageFormat.PNG, DEFAULT_LIMITS).size == expected


def test_a_smaller_cap_is_honoured() -> None:
    limits = ImageLimits(max_side=512)
    # Draft mode decodes at 1/8 scale: 504 px is within a quarter of the cap, so it stays.
    assert decode(pictures.phone_photo(), ImageFormat.JPEG, limits).size == (378, 504)
    png = pictures.encoded(pictures.ui_pixels(1280, 800), "PNG")
    assert decode(png, ImageFormat.PNG, limits).size == (427, 267)  # reduced by 3
    png = pictures.encoded(pictures.ui_pixels(700, 400), "PNG")
    assert decode(png, ImageFormat.PNG, limits).size == (512, 293)  # Lanczos


def test_a_wide_gamut_profile_is_converted_to_srgb_then_dropped() -> None:
    profile = pictures.rgb_profile()
    source = Image.new("RGB", (64, 64), (200, 100, 50))
    data = pictures.encoded(source, "PNG", icc_profile=profile)
    image = decode(data, ImageFormat.PNG, DEFAULT_LIMITS)
    expected = ImageCms.profileToProfile(
        source, ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    )
    assert expected is not None
    assert image.getpixel((10, 10)) == expected.getpixel((10, 10)) != (200, 100, 50)
    assert "icc_profile" not in image.info


def test_an_srgb_profile_leaves_the_colours_alone() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = pictures.encoded(Image.new("RGB", (64, 64), (200, 100, 50)), "PNG", icc_profile=srgb)
    image = decode(data, ImageFormat.PNG, DEFAULT_LIMITS)
    assert image.getpixel((10, 10)) == (200, 100, 50)
    assert image.info == {}


def test_a_broken_profile_is_ignored_not_fatal() -> None:
    data = pictures.encoded(Image.new("RGB", (64, 64), (200, 100, 50)), "PNG",
                            icc_profile=b"not a profile" * 20)
    image = decode(data, ImageFormat.PNG, DEFAULT_LIMITS)
    assert image.getpixel((10, 10)) == (200, 100, 50)
    assert image.info == {}


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = pictures.encoded(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG")
    image = decode(data, ImageFormat.JPEG, DEFAULT_LIMITS)
    assert image.mode == "RGB"
    assert is_mark(corner_colour(image, "top-left"))


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    data = pictures.encoded(Image.new("I;16", (32, 32), 32768), "PNG")
    image = decode(data, ImageFormat.PNG, DEFAULT_LIMITS)
    assert image.mode == "L"
    assert image.getpixel((5, 5)) == 128


def test_palette_with_transparency_keeps_its_alpha() -> None:
    source = Image.new("P", (32, 32), 0)
    source.putpalette([255, 255, 255, 37, 99, 235])
    source.paste(1, (8, 8, 24, 24))
    data = pictures.encoded(source, "PNG", transparency=0)
    image = decode(data, ImageFormat.PNG, DEFAULT_LIMITS)
    assert image.mode == "RGBA"
    corner = image.getpixel((0, 0))
    assert isinstance(corner, tuple) and corner[3] == 0
    assert image.getpixel((16, 16)) == (37, 99, 235, 255)


def test_a_fully_opaque_alpha_channel_is_dropped() -> None:
    data = pictures.ui_screenshot(800, 500)
    assert Image.open(io.BytesIO(data)).mode == "RGBA"
    assert decode(data, ImageFormat.PNG, DEFAULT_LIMITS).mode == "RGB"


def test_real_transparency_stays() -> None:
    assert decode(pictures.alpha_png(), ImageFormat.PNG, DEFAULT_LIMITS).mode == "RGBA"


def test_a_truncated_jpeg_is_refused() -> None:
    with refused(415, "unsupported_image") as caught:
        decode(pictures.truncated_jpeg(), ImageFormat.JPEG, DEFAULT_LIMITS)
    assert caught.value.message == DAMAGED


def test_bytes_of_another_format_are_never_parsed_as_it() -> None:
    png = pictures.encoded(pictures.photo_pixels(32, 32), "PNG")
    with refused(415, "unsupported_image"):
        decode(png, ImageFormat.JPEG, DEFAULT_LIMITS)


def test_the_pixel_cap_holds_even_if_the_header_check_was_skipped() -> None:
    with refused(422, "image_too_large"):
        decode(pictures.huge_png(), ImageFormat.PNG, DEFAULT_LIMITS)
    data = pictures.encoded(pictures.photo_pixels(300, 200), "PNG")
    with refused(422, "image_too_large"):
        decode(data, ImageFormat.PNG, ImageLimits(max_pixels=300 * 200 - 1))


def damaged_exif(orientation: int) -> bytes:
    """EXIF written by hand: the orientation, then XResolution holding text, not a fraction."""
    entries = [
        (0x0112, 3, 1, orientation.to_bytes(2, "big") + b"\x00\x00"),  # SHORT
        (0x011A, 2, 4, b"abc\x00"),  # ASCII where a RATIONAL belongs
    ]
    ifd = len(entries).to_bytes(2, "big") + b"".join(
        tag.to_bytes(2, "big") + kind.to_bytes(2, "big") + count.to_bytes(4, "big") + value
        for tag, kind, count, value in entries
    ) + bytes(4)
    return b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + ifd


def test_damaged_exif_is_dropped_and_its_orientation_still_applies() -> None:
    # ImageOps.exif_transpose raises on this (it writes the rest of the EXIF back).
    data = pictures.encoded(pictures.photo_pixels(400, 300), "JPEG", exif=damaged_exif(6))
    image = decode(data, ImageFormat.JPEG, DEFAULT_LIMITS)
    assert image.size == (300, 400)
    assert is_mark(corner_colour(image, "top-right"))
    assert image.info == {} and not image.getexif()
