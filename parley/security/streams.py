"""A cap on concurrent upstream streams per instance: when full, 503 with Retry-After."""

from __future__ import annotations

from parley import errors


class StreamSlots:
    """Counts model turns in flight on this instance."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def take(self) -> None:
        """Claim a slot or raise ServerBusy. Pair every take() with one release()."""
        if self.active >= self.limit:
            raise errors.ServerBusy(retry_after=2)
        self.active += 1

    def release(self) -> None:
        self.active = max(0, self.active - 1)
