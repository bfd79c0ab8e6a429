"""Which provider answers a turn, and with which key. Providers register here by name."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from parley import errors
from parley.providers.base import Provider


@dataclass(frozen=True, slots=True)
class Choice:
    provider: Provider
    api_key: str | None
    key_source: str  # "user", "operator" or "none"


class ProviderRegistry:
    """The providers this server can use, and the contract's rule for choosing one."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        *,
        operator_key: str | None = None,
        access_code: str | None = None,
    ) -> None:
        self._providers = dict(providers)
        self._operator_key = operator_key
        self._access_code = access_code

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> list[str]:
        return list(self._providers)

    @property
    def has_operator_key(self) -> bool:
        return self._operator_key is not None

    @property
    def needs_access_code(self) -> bool:
        return self._operator_key is not None and self._access_code is not None

    def choose(
        self, explicit: str | None, user_key: str | None, access_code: str | None
    ) -> Choice:
        """An explicit provider wins; else a key means OpenAI; else the local model; else 401."""
        if explicit is not None:
            provider = self._providers.get(explicit)
            if provider is None:
                raise errors.ProviderUnavailable(
                    f"The {explicit!r} provider is not available on this server. "
                    f"Available: {', '.join(self._providers) or 'none'}."
                )
            if not provider.needs_key:
                return Choice(provider, None, "none")
            if user_key:
                return Choice(provider, user_key, "user")
            return Choice(provider, self.operator_key(access_code, required=True), "operator")
        openai = self._providers.get("openai")
        if openai is not None and user_key:
            return Choice(openai, user_key, "user")
        if openai is not None and self._operator_key is not None:
            key = self.operator_key(access_code, required="local" not in self._providers)
            if key is not None:
                return Choice(openai, key, "operator")
        local = self._providers.get("local")
        if local is not None:
            return Choice(local, None, "none")
        raise errors.ApiKeyRequired(
            "Add your OpenAI API key in Settings to talk to Parley on this server."
        )

    def operator_key(self, access_code: str | None, *, required: bool) -> str | None:
        """The operator key if this caller may use it; raises when they must and may not."""
        if self._operator_key is None:
            if required:
                raise errors.ApiKeyRequired()
            return None
        if self._access_code is None:
            return self._operator_key
        if access_code is not None and hmac.compare_digest(
            access_code.encode("utf-8"), self._access_code.encode("utf-8")
        ):
            return self._operator_key
        if access_code is not None:
            raise errors.AccessCodeRequired(
                "That access code is not right. Check it in Settings, or use your own API key."
            )
        if required:
            raise errors.AccessCodeRequired()
        return None
