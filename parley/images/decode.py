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

from PIL import ExifTags, Image, ImageCms

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
# What each EXIF orientation asks for to show the picture upright (as ImageOps.exif_transpose).
_UPRIGHT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
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


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag, 1 (as stored) when it is absent or unreadable."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # EXIF is untrusted input, and Pillow's parser fails in many ways
        return 1
    return value if isinstance(value, int) else 1


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    # Not ImageOps.exif_transpose: it writes the remaining EXIF back, which raises on the
    # damaged EXIF that phones and editors do produce; Parley drops EXIF anyway.
    method = _UPRIGHT.get(orientation)
    return image if method is None else image.transpose(method)


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
    """A copy with only the pixels: no `info` (encoders write some of it back by default, as
    PNG does the ICC profile), and no parsed EXIF that `getexif()` caches on the object."""
    clean = image.copy()
    clean.info.clear()
    return clean


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
        except Image.DecompressionBombError:
            raise errors.ImageTooLarge() from None
        except _UNREADABLE:
            raise errors.UnsupportedImage(DAMAGED) from None
        image = _opaque(_plain_mode(source))  # before resampling: 3 channels cost less
        image = _upright(_downsize(image, limits), _orientation(source))
        return _without_metadata(_to_srgb(image))
