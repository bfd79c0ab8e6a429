"""A conversation's pictures made ready to go upstream: every turn's, checked and re-encoded."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from parley.images.limits import DEFAULT_LIMITS, ImageLimits
from parley.images.prepare import prepare_request
from parley.providers.base import Message


async def with_prepared_images(
    history: Sequence[Message], images: Sequence[str], *, limits: ImageLimits = DEFAULT_LIMITS
) -> tuple[list[Message], tuple[str, ...]]:
    """The history and this turn's pictures, each replaced by its checked, re-encoded self.

    Refuses (415, 413, 422) before anything is sent anywhere; nothing is kept either way.
    """
    lists = [list(images), *(list(turn.images) for turn in history)]
    if not any(lists):
        return list(history), ()
    prepared = await prepare_request(lists, limits)
    urls = [tuple(image.data_url for image in batch) for batch in prepared]
    turns = [dataclasses.replace(turn, images=urls[i + 1]) if turn.images else turn
             for i, turn in enumerate(history)]
    return turns, urls[0]
