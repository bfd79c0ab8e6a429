"""The contract's caps on pictures, and the checks that need no decoding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from parley import errors


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """How many pictures a request may carry and how big each may be (the contract's numbers)."""

    per_turn: int = 4
    per_request: int = 8
    # Decoded bytes of one picture. Decimal megabytes, as file browsers show sizes.
    max_bytes: int = 5_000_000
    max_pixels: int = 40_000_000
    # The long side of what goes upstream.
    max_side: int = 2048


DEFAULT_LIMITS = ImageLimits()
# The multiplication sign of "4,032 by 3,024 pixels", escaped: ruff takes the literal for an x.
TIMES = "\u00d7"


def megabytes(size: int) -> str:
    """A byte count as a person reads it, rounded up: "7.2 MB", never "5 MB" for 5.01 MB."""
    return f"{math.ceil(size / 100_000) / 10:g} MB"


def check_counts(image_lists: Sequence[Sequence[object]], limits: ImageLimits) -> None:
    """Refuse (422) a request whose turns carry more pictures than the caps allow."""
    for images in image_lists:
        if len(images) > limits.per_turn:
            raise errors.TooManyImages(
                f"One message can carry up to {limits.per_turn} pictures and this one has "
                f"{len(images)}. Send the rest with your next message."
            )
    total = sum(len(images) for images in image_lists)
    if total > limits.per_request:
        raise errors.TooManyImages(
            f"This conversation sends {total} pictures at once and Parley takes up to "
            f"{limits.per_request}. Remove some earlier pictures, or start a new conversation."
        )


def check_bytes(size: int, limits: ImageLimits) -> None:
    """Refuse (413) a picture of more than `limits.max_bytes` bytes."""
    if size > limits.max_bytes:
        raise errors.PayloadTooLarge(
            f"That picture is {megabytes(size)}; Parley takes pictures up to "
            f"{megabytes(limits.max_bytes)}. Send a screenshot or a smaller photo."
        )


def check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    """Refuse (422) a picture of more than `limits.max_pixels` pixels, before it is decoded."""
    if width * height > limits.max_pixels:
        raise errors.ImageTooLarge(
            f"That picture is {width:,} {TIMES} {height:,} pixels; Parley takes up to "
            f"{limits.max_pixels / 1_000_000:g} megapixels. Send a screenshot or a smaller photo."
        )
