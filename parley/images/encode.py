"""Clean pixels to the bytes that go upstream: JPEG for photos, PNG for flat UI and alpha.

Only PNG and JPEG go out. WebP would be smaller, but OpenAI-compatible servers differ (llama.cpp's
server decodes with stb_image, which has no WebP), and these two every vision model reads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Final

from PIL import Image

from parley.images.formats import ImageFormat

PHOTO_QUALITY: Final = 85
# Text in a screenshot that has to go as JPEG: higher quality and no chroma subsampling,
# which is what smears coloured text and thin UI lines.
SCREEN_QUALITY: Final = 90
# A PNG past this is a busy screenshot; it goes as JPEG (or, with transparency, as a 256-colour
# PNG) so a turn's pictures stay a few hundred kilobytes, not megabytes.
PNG_BUDGET: Final = 1_000_000
# Flat UI: the most common few colours cover much of the picture. Photos, even of a
# whiteboard, spread over thousands of colours with noise.
_FLAT_TOP_COLOURS: Final = 16
_FLAT_SHARE: Final = 0.5
_SAMPLE_SIDE: Final = 256


@dataclass(frozen=True, slots=True)
class Encoded:
    media_type: str
    data: bytes = field(repr=False)


def looks_flat(image: Image.Image) -> bool:
    """Whether the picture is flat colour (UI, diagrams, text) rather than a photo."""
    width, height = image.size
    scale = min(1.0, _SAMPLE_SIDE / max(width, height))
    sample_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Nearest-neighbour keeps real pixel colours; averaging would invent in-between ones.
    sample = image.convert("RGB").resize(sample_size, Image.Resampling.NEAREST)
    pixels = sample_size[0] * sample_size[1]
    colours = sample.getcolors(maxcolors=pixels) or []
    top = sorted((count for count, _ in colours), reverse=True)[:_FLAT_TOP_COLOURS]
    return sum(top) >= _FLAT_SHARE * pixels


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # Level 3 is about a third faster than the default 6 for some 5 % more bytes.
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _jpeg(image: Image.Image, *, quality: int, subsampling: str) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, subsampling=subsampling, optimize=True)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("LA", "RGBA")


def encode(image: Image.Image, source: ImageFormat) -> Encoded:
    """The picture as PNG (transparency, flat UI) or JPEG (photos, busy screenshots).

    `image` must carry no metadata (as `decode` returns it); nothing is added here.
    """
    if _has_alpha(image):
        data = _png(image)
        if len(data) > PNG_BUDGET:
            palette = image.convert("RGBA").quantize(256, method=Image.Quantize.FASTOCTREE)
            data = _png(palette)
        return Encoded("image/png", data)
    if source in (ImageFormat.PNG, ImageFormat.WEBP) and looks_flat(image):
        data = _png(image)
        if len(data) <= PNG_BUDGET:
            return Encoded("image/png", data)
        return Encoded("image/jpeg", _jpeg(image, quality=SCREEN_QUALITY, subsampling="4:4:4"))
    return Encoded("image/jpeg", _jpeg(image, quality=PHOTO_QUALITY, subsampling="4:2:0"))
