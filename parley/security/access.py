"""The operator's access code: checked before anything else in a request, and not guessable.

Every wrong code is counted for the client that sent it and for the code's first letters
across all clients; past a few, the client gets 429 `too_many_attempts` with `Retry-After`,
and the budgets grow longer (a minute, then an hour, then a day). Every refusal reads the
same, whatever else the request held, so a guess can only be told right by using it.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from parley import errors
from parley.security.payer import NO_ACCESS, Access, KeyRule
from parley.security.ratelimit import Budget, RateLimiter, key_fingerprint

if TYPE_CHECKING:
    from parley.observability.metrics import Metrics

WRONG_CODE = "That access code is not right. Check it in Settings, or use your own API key."
# Per client: a few typos a minute, a handful more an hour, then a day's wait.
CLIENT_BUDGETS = (
    Budget.of("code-fail-minute", "5/minute"),
    Budget.of("code-fail-hour", "15/hour"),
    Budget.of("code-fail-day", "40/day"),
)
# Per guessed prefix, across clients: many addresses guessing the same way.
PREFIX_BUDGET = Budget.of("code-fail-prefix", "30/hour")
PREFIX_CHARS = 4


def is_loopback_client(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


class AccessGuard:
    """Works out a caller's `Access`, refusing wrong and too many codes."""

    def __init__(self, keys: KeyRule, limiter: RateLimiter, metrics: Metrics | None) -> None:
        self._keys = keys
        self._limiter = limiter
        self._metrics = metrics

    async def check(self, client: str, code: str | None) -> Access:
        """The caller's access; 401 for a wrong code, 429 after too many."""
        keys = self._keys
        if not keys.has_operator_key:
            return NO_ACCESS  # a code means nothing here
        if not keys.needs_access_code:
            # PARLEY_OPERATOR_KEY_LOOPBACK: local development, this machine only.
            return Access(granted=is_loopback_client(client))
        if code is None:
            return NO_ACCESS
        prefix = key_fingerprint(code[:PREFIX_CHARS])
        for budget, name in [*((b, client) for b in CLIENT_BUDGETS), (PREFIX_BUDGET, prefix)]:
            if not await self._limiter.allows(budget, name):
                self._count("refused")
                wait = await self._limiter.retry_after(budget, name)
                raise errors.TooManyAttempts(retry_after=wait)
        if keys.code_is_right(code):
            return Access(granted=True)
        self._count("wrong")
        for budget in CLIENT_BUDGETS:
            await self._limiter.hit(budget, client)
        await self._limiter.hit(PREFIX_BUDGET, prefix)
        raise errors.AccessCodeRequired(WRONG_CODE)

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.access_code_failures.labels(outcome).inc()
