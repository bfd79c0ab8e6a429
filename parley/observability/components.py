"""Which configured dependencies (database, Redis) answer right now, and since when they do not.

Parts of Parley that use a dependency report each success and failure here; /api/health
shows it, /api/ready turns it into a yes or no for a load balancer, and metrics count it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.observability.metrics import Metrics

log = logging.getLogger(__name__)


class Components:
    """The state of each configured dependency of this instance."""

    def __init__(self, configured: Iterable[str], metrics: Metrics | None = None) -> None:
        self._down_since: dict[str, float | None] = {name: None for name in configured}
        self._metrics = metrics
        for name in self._down_since:
            self._gauge(name, up=True)

    def up(self, name: str) -> None:
        """`name` answered."""
        if self._down_since.get(name) is not None:
            log.warning("%s is reachable again", name)
            self._down_since[name] = None
            self._gauge(name, up=True)

    def down(self, name: str, problem: str) -> None:
        """`name` did not answer; `problem` names the failure (never a URL or a secret)."""
        if self._metrics is not None:
            self._metrics.dependency_failures.labels(name).inc()
        if self._down_since.get(name) is None:
            log.warning("%s is unreachable (%s); carrying on without it", name, problem)
            self._down_since[name] = time.time()
            self._gauge(name, up=False)

    def is_up(self, name: str) -> bool:
        return self._down_since.get(name) is None

    @property
    def ready(self) -> bool:
        """Every configured dependency answers."""
        return all(since is None for since in self._down_since.values())

    def report(self) -> dict[str, Any]:
        """`{"status": "ok" | "degraded", "components": {name: {"status", "since"}}}`."""
        components = {
            name: {
                "status": "ok" if since is None else "down",
                "since": None if since is None else
                datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds"),
            }
            for name, since in self._down_since.items()
        }
        return {"status": "ok" if self.ready else "degraded", "components": components}

    def _gauge(self, name: str, *, up: bool) -> None:
        if self._metrics is not None:
            self._metrics.dependency_up.labels(name).set(1 if up else 0)
