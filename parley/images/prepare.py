"""One picture from a request, end to end: a data URL in, a clean re-encoded picture out.

The steps run cheapest first, so a refusal costs as little as it can: the data URL's shape and
length (no decoding), the magic bytes and the label, the header's dimensions, and only then
decoding, downsizing and re-encoding. The CPU-bound work runs in a worker thread from async
code (`prepare_request`); the synchronous core (`prepare_image`) is what tests drive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parley import errors
from parley.images.dataurl import check_size, parse_data_url, to_data_url
from parley.images.decode import DAMAGED, decode
from parley.images.dimensions import read_dimensions
from parley.images.encode import encode
from parley.images.formats import ImageFormat, check_label, sniff
from parley.images.limits import DEFAULT_LIMITS, ImageLimits, check_counts, check_pixels


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """A picture ready to go upstream: re-encoded, downsized, with no metadata."""

    media_type: str  # "image/jpeg" or "image/png"
    data: bytes = field(repr=False)
    width: int
    height: int
    source_format: ImageFormat
    source_bytes: int  # decoded bytes of what the person sent
    source_width: int  # as stored, before orientation
    source_height: int

    @property
    def data_url(self) -> str:
        """`data:<media_type>;base64,...`, as an OpenAI `image_url` part carries it."""
        return to_data_url(self.media_type, self.data)

    def content_part(self) -> dict[str, Any]:
        """The OpenAI Chat Completions content part for this picture."""
        return {"type": "image_url", "image_url": {"url": self.data_url}}


def prepare_image(url: str, limits: ImageLimits = DEFAULT_LIMITS) -> PreparedImage:
    """Check, decode, clean, downsize and re-encode the picture in a data URL.

    Raises `UnsupportedImage` (415), `PayloadTooLarge` (413) or `ImageTooLarge` (422).
    """
    parsed = parse_data_url(url, limits)
    image_format = sniff(parsed.data)
    check_label(parsed.media_type, image_format)
    size = read_dimensions(parsed.data, image_format)
    if size is None:
        raise errors.UnsupportedImage(DAMAGED)
    check_pixels(*size, limits)
    image = decode(parsed.data, image_format, limits)
    encoded = encode(image, image_format)
    return PreparedImage(
        media_type=encoded.media_type,
        data=encoded.data,
        width=image.width,
        height=image.height,
        source_format=image_format,
        source_bytes=len(parsed.data),
        source_width=size[0],
        source_height=size[1],
    )


def check_request(image_lists: Sequence[Sequence[str]],
                  limits: ImageLimits = DEFAULT_LIMITS) -> None:
    """Refuse a request's pictures on what needs no decoding: counts, then shapes and sizes.

    `image_lists` holds one list per turn: the new turn's and each history item's. Raises
    `TooManyImages` (422), `UnsupportedImage` (415) or `PayloadTooLarge` (413).
    """
    check_counts(image_lists, limits)
    for images in image_lists:
        for url in images:
            check_size(url, limits)


def prepare_all(image_lists: Sequence[Sequence[str]],
                limits: ImageLimits = DEFAULT_LIMITS) -> list[list[PreparedImage]]:
    """Every turn's pictures prepared, in order, after `check_request` passed for them all."""
    check_request(image_lists, limits)
    return [[prepare_image(url, limits) for url in images] for images in image_lists]


async def prepare_request(image_lists: Sequence[Sequence[str]],
                          limits: ImageLimits = DEFAULT_LIMITS) -> list[list[PreparedImage]]:
    """`prepare_all` in a worker thread, so decoding never blocks the event loop."""
    check_request(image_lists, limits)  # cheap: refuse before taking a thread
    return await asyncio.to_thread(prepare_all, image_lists, limits)
