"""Photos go up as JPEG, flat UI and transparency as PNG, and busy screenshots stay small."""

from __future__ import annotations

from PIL import Image, JpegImagePlugin

from parley.images.encode import PNG_BUDGET, encode, looks_flat
from parley.images.formats import ImageFormat
from tests.images import pictures
from tests.images.checks import assert_no_metadata, reopen


def ui_with_a_photo(width: int = 2048, height: int = 1536) -> Image.Image:
    """A screen that is mostly flat UI with a big photo in it: too busy for a small PNG."""
    image = pictures.ui_pixels(width, height).copy()
    photo = pictures.photo_pixels(width * 2 // 5, height)
    image.paste(photo, (width - photo.width, 0))
    return image


def test_flat_ui_looks_flat_and_photos_do_not() -> None:
    assert looks_flat(pictures.ui_pixels(2048, 1280))
    assert looks_flat(ui_with_a_photo())
    assert not looks_flat(pictures.photo_pixels(2048, 1536))
    assert not looks_flat(pictures.photo_pixels(20, 10))


def test_photos_go_as_jpeg_with_chroma_subsampling() -> None:
    for source in (ImageFormat.JPEG, ImageFormat.HEIF, ImageFormat.PNG, ImageFormat.WEBP):
        encoded = encode(pictures.photo_pixels(1600, 1200), source)
        assert encoded.media_type == "image/jpeg"
        image = reopen(encoded.data)
        assert image.format == "JPEG"
        assert JpegImagePlugin.get_sampling(image) == 2  # 4:2:0
        assert_no_metadata(encoded.data)


def test_a_jpeg_screenshot_stays_jpeg() -> None:
    # Its text is already JPEG-blurred; a PNG of it would only be bigger.
    assert encode(pictures.ui_pixels(1600, 1000), ImageFormat.JPEG).media_type == "image/jpeg"


def test_flat_ui_goes_as_lossless_png() -> None:
    pixels = pictures.ui_pixels(2048, 1280)
    encoded = encode(pixels, ImageFormat.PNG)
    assert encoded.media_type == "image/png"
    assert len(encoded.data) < 500_000
    image = reopen(encoded.data)
    assert (image.format, image.mode) == ("PNG", "RGB")
    assert image.tobytes() == pixels.tobytes()
    assert_no_metadata(encoded.data)


def test_a_busy_screenshot_goes_as_sharp_jpeg_instead_of_a_huge_png() -> None:
    encoded = encode(ui_with_a_photo(), ImageFormat.PNG)
    assert encoded.media_type == "image/jpeg"
    assert JpegImagePlugin.get_sampling(reopen(encoded.data)) == 0  # 4:4:4, text stays crisp
    assert len(encoded.data) < PNG_BUDGET


def test_transparency_goes_as_png_with_its_alpha() -> None:
    pixels = reopen(pictures.alpha_png())
    encoded = encode(pixels, ImageFormat.PNG)
    assert encoded.media_type == "image/png"
    image = reopen(encoded.data)
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0)) == (0, 0, 0, 0)


def test_a_busy_transparent_picture_goes_as_a_palette_png() -> None:
    pixels = pictures.photo_pixels(2048, 1536).convert("RGBA")
    pixels.putalpha(Image.linear_gradient("L").resize((2048, 1536)))
    encoded = encode(pixels, ImageFormat.PNG)
    assert encoded.media_type == "image/png"
    assert len(encoded.data) < PNG_BUDGET
    image = reopen(encoded.data)
    assert image.mode == "P" and "transparency" in image.info


def test_greyscale_stays_greyscale() -> None:
    grey = pictures.ui_pixels(800, 500).convert("L")
    assert reopen(encode(grey, ImageFormat.PNG).data).mode == "L"
    assert reopen(encode(grey, ImageFormat.JPEG).data).mode == "L"
