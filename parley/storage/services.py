"""Server-side history, when PARLEY_DATABASE_URL is set. (Filled in by the storage work.)"""

from __future__ import annotations

from typing import Any

from parley.config import Settings


async def build_storage(settings: Settings) -> Any | None:
    """The history store, or None when conversations stay on the device."""
    return None
