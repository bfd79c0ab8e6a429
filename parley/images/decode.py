"""Bytes in a known format to clean pixels: decoded for real, upright, sRGB, downsized.

The image this returns carries no metadata at all: EXIF (GPS included), XMP and the ICC
profile are gone, the orientation and colour they described already applied to the pixels.
"""

from __future__ import annotations

import functools
import io
import math
import zlib
from typing import Final

from PIL import Image, ImageCms, ImageOps

from parley import errors
from parley.images.formats import ImageFormat
from parley.images.heif import NO_HEIF, heif_available
from parley.images.limits import ImageLimits, check_pixels

DAMAGED: Final = (
    "That picture is damaged or cut short, so Parley can't read it. Attach it again."
)
# Shortcuts past resampling, taken when the result keeps at least this share of the long-side
# cap: JPEG decodes at 1/2, 1/4 or 1/8 scale almost for free (draft mode), and any picture
# shrinks by a whole factor with a fast box average (reduce). A 4032 px phone photo becomes
# 2016 px either way, in a fraction of a Lanczos resize's time. Models look at less than this
# (OpenAI scales the short side to 768 px), so nothing they see is lost.
_KEEP_SHARE: Final = 0.75
_PLAIN_MODES: Final = frozenset({"L", "LA", "RGB", "RGBA"})
# What Pillow raises for a file it cannot read: broken streams, bad chunks, short data.
_UNREADABLE: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, zlib.error)


def _open(data: bytes, image_format: ImageFormat) -> Image.Image:
    if image_format is ImageFormat.HEIF and not heif_available():
        raise errors.UnsupportedImage(NO_HEIF)
    try:
        # Only the sniffed format's plugin may open it: no other parser ever sees the bytes.
        return Image.open(io.BytesIO(data), formats=[image_format.pillow_name])
    except Image.DecompressionBombError:
        raise errors.ImageTooLarge() from None
    except _UNREADABLE:
        raise errors.UnsupportedImage(DAMAGED) from None


def _draft(image: Image.Image, limits: ImageLimits) -> None:
    width, height = image.size
    long_side = max(width, height)
    if image.format not in ("JPEG", "MPO") or long_side <= limits.max_side:
        return
    share = limits.max_side * _KEEP_SHARE / long_side
    image.draft(None, (math.ceil(width * share), math.ceil(height * share)))


def _plain_mode(image: Image.Image) -> Image.Image:
    """The picture in L, LA, RGB or RGBA (CMYK stays until its colour profile is applied)."""
    mode = image.mode
    if mode in _PLAIN_MODES or (mode == "CMYK" and "icc_profile" in image.info):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit and wider greyscale
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if mode == "1":
        return image.convert("L")
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _downsize(image: Image.Image, limits: ImageLimits) -> Image.Image:
    long_side = max(image.size)
    if long_side <= limits.max_side:
        return image
    factor = math.floor(long_side / (limits.max_side * _KEEP_SHARE))
    if factor >= 2:
        image = image.reduce(factor)
    width, height = image.size
    if max(width, height) <= limits.max_side:
        return image
    scale = limits.max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """The picture's colours in sRGB, if it came with another colour profile."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image.convert("RGB") if image.mode == "CMYK" else image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, profile, _srgb(), outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken or unusual profile: the pixels as they are beat no picture at all.
        return image.convert("RGB") if image.mode == "CMYK" else image
    assert converted is not None  # only None when converting in place
    return converted


def _opaque(image: Image.Image) -> Image.Image:
    """Drop an alpha channel that is fully opaque (most screenshots carry one)."""
    if image.mode not in ("LA", "RGBA"):
        return image
    low, _ = image.getchannel("A").getextrema()
    return image.convert(image.mode[:-1]) if low == 255 else image


def _without_metadata(image: Image.Image) -> Image.Image:
    # Encoders write some of `info` back by default (PNG keeps the ICC profile): clear it
    # all. The copy leaves behind the parsed EXIF that `getexif()` caches on the object.
    image.info.clear()
    return image.copy()


def decode(data: bytes, image_format: ImageFormat, limits: ImageLimits) -> Image.Image:
    """Decode `data` into upright sRGB pixels at most `limits.max_side` long, with no metadata.

    Raises `ImageTooLarge` (422) past `limits.max_pixels`, before decoding, and
    `UnsupportedImage` (415) for a damaged or cut-short file, or HEIC without pillow-heif.
    """
    with _open(data, image_format) as source:
        check_pixels(*source.size, limits)  # the header said so too; Pillow must agree
        _draft(source, limits)
        try:
            source.load()
            image = _opaque(_plain_mode(source))  # before resampling: 3 channels cost less
            image = _downsize(image, limits)
            # Always a new image (a copy when upright), so it outlives `source`.
            image = ImageOps.exif_transpose(image)
        except Image.DecompressionBombError:
            raise errors.ImageTooLarge() from None
        except _UNREADABLE:
            raise errors.UnsupportedImage(DAMAGED) from None
    return _without_metadata(_to_srgb(image))
