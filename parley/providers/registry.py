"""Which provider answers a turn, and with which key. Providers register here by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parley import errors
from parley.providers.base import Provider
from parley.security.payer import Access, KeyRule, Payer

NO_PROVIDER = "Add your OpenAI API key in Settings to talk to Parley on this server."


@dataclass(frozen=True, slots=True)
class Choice:
    provider: Provider
    payer: Payer | None

    @property
    def api_key(self) -> str | None:
        return self.payer.key if self.payer is not None else None

    @property
    def key_source(self) -> str:
        """"user", "operator" or "none"."""
        return self.payer.source if self.payer is not None else "none"


class ProviderRegistry:
    """The providers this server can use, and the contract's rule for choosing one."""

    def __init__(self, providers: Mapping[str, Provider], *, keys: KeyRule) -> None:
        self._providers = dict(providers)
        self.keys = keys

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> list[str]:
        return list(self._providers)

    def choose(self, explicit: str | None, user_key: str | None, access: Access) -> Choice:
        """An explicit provider wins; else a key means OpenAI; else the local model; else 401."""
        if explicit is not None:
            provider = self._providers.get(explicit)
            if provider is None:
                raise errors.ProviderUnavailable(
                    f"The {explicit!r} provider is not available on this server. "
                    f"Available: {', '.join(self._providers) or 'none'}."
                )
            if not provider.needs_key:
                return Choice(provider, None)
            return Choice(provider, self.keys.require(user_key, access))
        local = self._providers.get("local")
        openai = self._providers.get("openai")
        if openai is not None:
            payer = self.keys.decide(
                user_key, access, offline=local is not None,
                missing=errors.ApiKeyRequired(NO_PROVIDER),
            )
            if payer is not None:
                return Choice(openai, payer)
        if local is not None:
            return Choice(local, None)
        raise errors.ApiKeyRequired(NO_PROVIDER)
