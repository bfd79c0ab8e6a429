"""Who pays for a model call: the person's key, the operator's behind the access code, or nobody.

This is the one place the rule lives. Chat turns, briefs, speech and realtime calls all ask
`KeyRule.decide`, and each then picks its engine: a key means OpenAI, no key means an
offline engine (the caller says whether it has one). Whether the caller may use the
operator's key at all (the access code, checked before anything else) is `Access`, worked
out by `parley.security.access`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from parley import errors

KeySource = Literal["user", "operator"]

LOCAL_ONLY = ("This server's OpenAI key is for use on its own machine only. Add your own "
              "OpenAI API key in Settings.")


@dataclass(frozen=True, slots=True)
class Access:
    """What the caller showed for the operator's key."""

    # May spend the operator's key: the right access code, or (local development) a
    # request from this machine where no code is set.
    granted: bool = False


NO_ACCESS = Access()


@dataclass(frozen=True, slots=True)
class Payer:
    """The key a call is made with, and whose it is. Never logged: see `__repr__`."""

    key: str
    source: KeySource

    def __repr__(self) -> str:
        return f"Payer(source={self.source!r})"


class KeyRule:
    """The contract's rule: the person's key; else the operator's (behind the access code)."""

    def __init__(self, *, operator_key: str | None, access_code: str | None) -> None:
        self._operator_key = operator_key
        self._access_code = access_code

    @property
    def has_operator_key(self) -> bool:
        return self._operator_key is not None

    @property
    def needs_access_code(self) -> bool:
        return self._operator_key is not None and self._access_code is not None

    def code_is_right(self, given: str) -> bool:
        """Whether `given` is the access code (compared in constant time)."""
        expected = self._access_code
        if expected is None:
            return False
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

    def decide(
        self,
        user_key: str | None,
        access: Access,
        *,
        offline: bool,
        missing: errors.ParleyError | None = None,
    ) -> Payer | None:
        """Who pays; None when nobody does and the caller's offline engine answers.

        `offline` says whether the caller has an offline engine to fall back to. Without
        one, a call nobody can pay for raises `missing` (401 `api_key_required` unless the
        caller says otherwise), or asks for the access code when that would open the way.
        """
        if user_key:
            return Payer(user_key, "user")
        operator = self._operator_key
        if operator is not None and access.granted:
            return Payer(operator, "operator")
        if offline:
            return None
        if operator is not None and self._access_code is not None:
            raise errors.AccessCodeRequired()
        if operator is not None:
            raise errors.ApiKeyRequired(LOCAL_ONLY)
        raise missing or errors.ApiKeyRequired()

    def require(
        self, user_key: str | None, access: Access,
        *, missing: errors.ParleyError | None = None,
    ) -> Payer:
        """Who pays, for a call no offline engine can make (realtime, an explicit OpenAI)."""
        payer = self.decide(user_key, access, offline=False, missing=missing)
        if payer is None:  # decide() raises first when there is no offline engine
            raise missing or errors.ApiKeyRequired()
        return payer
