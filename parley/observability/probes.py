"""A background look at each configured dependency, so /api/ready is true even when idle.

Requests report what they meet (see `Components`); this loop also asks every few seconds,
which is how an instance notices a dependency come back when nobody is talking to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

PROBE_SECONDS = 5.0

Probe = Callable[[], Awaitable[None]]


async def watch(probes: Sequence[Probe], every: float = PROBE_SECONDS) -> None:
    """Run each probe every `every` seconds, forever (cancelled by the lifespan)."""
    while True:
        for probe in probes:
            try:
                await probe()
            except Exception:  # a probe reports its own outcome; this only keeps it going
                log.debug("a dependency probe failed", exc_info=True)
        await asyncio.sleep(every)
