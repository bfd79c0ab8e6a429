"""A picture's width and height read from its header, so the pixel cap holds before decoding.

Pillow reads sizes lazily too, but its own decompression-bomb check (a warning, then an error
past about 179 megapixels) would speak first and without the numbers a person needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from parley.images.formats import ImageFormat

Size = tuple[int, int]

# JPEG start-of-frame markers: baseline, extended, progressive, lossless, arithmetic coded.
_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                         0xCE, 0xCF})
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length
_SOS: Final = 0xDA


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _png(data: bytes) -> Size | None:
    if data[12:16] != b"IHDR" or len(data) < 24:
        return None
    return _u32(data, 16), _u32(data, 20)


def _jpeg(data: bytes) -> Size | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            return _u16(data, at + 7), _u16(data, at + 5)
        if marker == _SOS:
            return None  # image data began without a frame header
        at += 2 + _u16(data, at + 2)
    return None


def _webp(data: bytes) -> Size | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    return None


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each ISO base media box in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind, header = _u32(data, at), data[at + 4 : at + 8], 8
        if size == 1 and at + 16 <= end:  # a 64-bit size follows the type
            size, header = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:  # the box runs to the end of its container
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, payload, stop in _boxes(data, start, end):
        if found == kind:
            return payload, stop
    return None


def _heif(data: bytes) -> Size | None:
    # meta (a full box: 4 bytes of version and flags) > iprp > ipco > ispe, one per item.
    # Tiles of a grid have their own small ispe; the largest is the whole picture.
    meta = _child(data, 0, len(data), b"meta")
    iprp = meta and _child(data, meta[0] + 4, meta[1], b"iprp")
    ipco = iprp and _child(data, iprp[0], iprp[1], b"ipco")
    if not ipco:
        return None
    sizes = [
        (_u32(data, payload + 4), _u32(data, payload + 8))
        for kind, payload, stop in _boxes(data, ipco[0], ipco[1])
        if kind == b"ispe" and stop - payload >= 12
    ]
    return max(sizes, key=lambda size: size[0] * size[1], default=None)


_READERS: Final = {
    ImageFormat.PNG: _png,
    ImageFormat.JPEG: _jpeg,
    ImageFormat.WEBP: _webp,
    ImageFormat.HEIF: _heif,
}


def read_dimensions(data: bytes, image_format: ImageFormat) -> Size | None:
    """(width, height) from the header of a picture in `image_format`; None if unreadable."""
    size = _READERS[image_format](data)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size
