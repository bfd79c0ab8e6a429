"""`data:<type>;base64,<payload>` URLs: read strictly, sized before decoding, and written."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Final

from parley import errors
from parley.images.limits import ImageLimits, check_bytes

# RFC 2046 type/subtype tokens; Parley takes nothing else in front of ";base64,".
_HEADER: Final = re.compile(r"data:([a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+);base64", re.IGNORECASE)

NOT_A_DATA_URL = (
    "Attach the picture itself: Parley reads pictures sent with the message, not links to them."
)
MALFORMED = "That picture didn't arrive in a form Parley can read. Attach it again."
BAD_BASE64 = "That picture's data is damaged (it is not valid base64). Attach it again."


@dataclass(frozen=True, slots=True)
class DataUrl:
    """A data URL's declared media type (lower-cased) and its decoded bytes."""

    media_type: str
    data: bytes = field(repr=False)


def _split(url: str) -> tuple[str, str]:
    """The media type and the base64 payload of `url`, or 415 if it is not that shape."""
    if not url.startswith("data:"):
        raise errors.UnsupportedImage(NOT_A_DATA_URL if "://" in url[:16] else MALFORMED)
    header, comma, payload = url.partition(",")
    match = _HEADER.fullmatch(header)
    if not comma or match is None:
        raise errors.UnsupportedImage(MALFORMED)
    return match.group(1).lower(), payload


def decoded_size(payload: str) -> int:
    """How many bytes a base64 payload decodes to, without decoding it."""
    padding = min(len(payload) - len(payload.rstrip("=")), 2)
    return len(payload) * 3 // 4 - padding


def check_size(url: str, limits: ImageLimits) -> None:
    """Refuse (415 or 413) a data URL of the wrong shape or too many bytes, without decoding."""
    _, payload = _split(url)
    check_bytes(decoded_size(payload), limits)


def parse_data_url(url: str, limits: ImageLimits) -> DataUrl:
    """The media type and bytes of a picture's data URL.

    Raises `UnsupportedImage` (415) for anything but `data:<type>;base64,<payload>` with a
    valid base64 payload, and `PayloadTooLarge` (413) past `limits.max_bytes`, checked on the
    payload's length before any decoding.
    """
    media_type, payload = _split(url)
    check_bytes(decoded_size(payload), limits)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters in the payload
        raise errors.UnsupportedImage(BAD_BASE64) from None
    return DataUrl(media_type, data)


def to_data_url(media_type: str, data: bytes) -> str:
    """`data:<media_type>;base64,<data>`."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
