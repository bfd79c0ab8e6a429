"""Test pictures, all made at test time with Pillow: photos, screenshots and impostors.

Photos are noisy gradients (they compress like photos); screenshots are flat panels with text
(they compress like UI). Each maker returns file bytes; `data_url` wraps them for a request.
"""

from __future__ import annotations

import base64
import functools
import io
import struct
import zlib
from typing import Any, Final

from PIL import Image, ImageDraw, ImageFont
from PIL.ExifTags import GPS, IFD, Base

from parley.images.heif import heif_available

# Stored top-left corner of every photo: a red block, to see where orientation puts it.
MARK: Final = (255, 0, 0)
MARK_SHARE: Final = 8  # the block is 1/8 of each side
GPS_INFO: Final[dict[int, object]] = {
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: (52.0, 31.0, 12.0),
    GPS.GPSLongitudeRef: "E",
    GPS.GPSLongitude: (13.0, 24.0, 36.0),
}


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def encoded(image: Image.Image, image_format: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **params)
    return out.getvalue()


@functools.cache
def photo_pixels(width: int, height: int) -> Image.Image:
    """A photo-like RGB picture: smooth colour gradients under sensor-like noise."""
    small = (max(2, width // 64), max(2, height // 64))
    red = Image.linear_gradient("L").resize(small)
    green = Image.radial_gradient("L").resize(small)
    blue = Image.linear_gradient("L").rotate(90).resize(small)
    base = Image.merge("RGB", (red, green, blue)).resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(base, noise, 0.15)
    ImageDraw.Draw(image).rectangle(
        (0, 0, width // MARK_SHARE, height // MARK_SHARE), fill=MARK
    )
    return image


def photo_exif(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[Base.Make] = "Apple"
    exif[Base.Model] = "iPhone 15"
    exif[Base.Orientation] = orientation
    exif[Base.DateTime] = "2025:03:14 09:26:53"
    if gps:
        exif.get_ifd(IFD.GPSInfo).update(GPS_INFO)
    return exif


@functools.cache
def phone_photo(width: int = 4032, height: int = 3024, orientation: int = 6) -> bytes:
    """A 12-megapixel JPEG as a phone takes it: GPS, an orientation tag, XMP."""
    return encoded(
        photo_pixels(width, height), "JPEG", quality=90, exif=photo_exif(orientation),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Berlin studio, 52.52N</x:xmpmeta>',
    )


@functools.cache
def ui_pixels(width: int = 2560, height: int = 1600, mode: str = "RGB") -> Image.Image:
    """A flat app screen: a sidebar, a toolbar, cards with text and buttons."""
    image = Image.new(mode, (width, height), (246, 247, 249, 255))
    draw = ImageDraw.Draw(image)
    unit = width // 64
    font = ImageFont.load_default(size=max(10, unit))
    draw.rectangle((0, 0, width // 6, height), fill=(32, 36, 48, 255))
    draw.rectangle((width // 6, 0, width, unit * 3), fill=(255, 255, 255, 255))
    for row in range(12):
        draw.text((unit, unit * 4 + row * unit * 2), f"Menu item {row + 1}",
                  fill=(200, 204, 214, 255), font=font)
    for index in range(6):
        left = width // 6 + unit + (index % 3) * (width // 4 + unit)
        top = unit * 5 + (index // 3) * (height // 3 + unit)
        draw.rounded_rectangle((left, top, left + width // 4, top + height // 3),
                               radius=unit // 2, fill=(255, 255, 255, 255),
                               outline=(220, 223, 230, 255))
        for line in range(5):
            draw.text((left + unit, top + unit + line * unit * 1.6),
                      f"Onboarding step {index + 1}: choose a budget goal {line}",
                      fill=(40, 44, 52, 255), font=font)
        draw.rounded_rectangle((left + unit, top + height // 3 - unit * 3,
                                left + unit * 8, top + height // 3 - unit),
                               radius=unit // 2, fill=(37, 99, 235, 255))
    return image


@functools.cache
def ui_screenshot(width: int = 2560, height: int = 1600) -> bytes:
    """A retina-size PNG screenshot of a UI (an opaque alpha channel, as macOS saves them)."""
    return encoded(ui_pixels(width, height, "RGBA"), "PNG")


@functools.cache
def alpha_png(width: int = 1200, height: int = 800) -> bytes:
    """A UI component exported with a transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((width // 8, height // 8, width * 7 // 8, height * 7 // 8),
                           radius=width // 20, fill=(37, 99, 235, 255))
    draw.text((width // 4, height // 2), "Continue", fill=(255, 255, 255, 255),
              font=ImageFont.load_default(size=height // 10))
    return encoded(image, "PNG")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header claiming width x height, with a token amount of pixel data.

    Written by hand: it is a few dozen bytes, and anything that tried to decode it would
    need 2.5 gigapixels of memory.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * (width + 1))  # one row of the promised many
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def truncated_jpeg() -> bytes:
    whole = encoded(photo_pixels(800, 600), "JPEG", quality=90)
    return whole[: len(whole) // 2]


SVG_WITH_SCRIPT: Final = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">'
    b"<script>fetch('/api/sessions').then(r => r.text()).then(alert)</script>"
    b'<rect width="400" height="300" fill="#2563eb"/></svg>'
)
TEXT_FILE: Final = b"Meeting notes: the onboarding needs fewer steps.\n" * 20


def gif() -> bytes:
    return encoded(Image.new("P", (64, 64), 1), "GIF")


def webp_photo(width: int = 3000, height: int = 2000) -> bytes:
    return encoded(photo_pixels(width, height), "WEBP", quality=80,
                   exif=photo_exif(orientation=8))


def webp_screenshot(width: int = 1600, height: int = 1000) -> bytes:
    return encoded(ui_pixels(width, height), "WEBP", lossless=True)


def avif() -> bytes:
    return encoded(photo_pixels(320, 240), "AVIF", quality=60)


@functools.cache
def heic_photo(width: int = 640, height: int = 480, orientation: int = 6) -> bytes:
    """A HEIC as an iPhone takes it (small, or encoding takes seconds): GPS, orientation."""
    if not heif_available():
        raise RuntimeError("pillow-heif is not installed: install parley[heif]")
    # EXIF as bytes: pillow-heif then turns the orientation tag into the HEIF rotation an
    # iPhone writes (an Exif object loses it).
    return encoded(photo_pixels(width, height), "HEIF", quality=60,
                   exif=photo_exif(orientation).tobytes(), enc_params={"preset": "ultrafast"})


# ---------------------------------------------------------------------------------------------
# Colour profiles

# Display P3's primaries adapted to D50 (the profile connection space's white), as in the
# profiles Apple devices embed; a plain 2.2 gamma stands in for its sRGB-like curve.
P3_PRIMARIES: Final = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419),
                       (0.1571, 0.0666, 0.7841))
_D50: Final = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(v) for v in values)


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\x00"
    return (b"desc\x00\x00\x00\x00" + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + bytes(67))


def rgb_profile(description: str = "Display P3 (test)",
                primaries: tuple[tuple[float, float, float], ...] = P3_PRIMARIES,
                gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 RGB display profile (matrix and gamma curves), written by hand."""
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"
    tags = [
        (b"desc", _text_description(description)),
        (b"wtpt", _xyz(_D50)),
        (b"rXYZ", _xyz(primaries[0])),
        (b"gXYZ", _xyz(primaries[1])),
        (b"bXYZ", _xyz(primaries[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00No copyright, test data\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\x00" * (-len(data) % 4)
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + bytes(12) + b"acsp" + b"APPL" + bytes(4 + 4 + 4 + 8 + 4)
              + b"".join(_s15(v) for v in _D50) + b"lcms" + bytes(44))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
