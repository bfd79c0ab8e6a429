"""The contract's provider choice rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import pytest

from parley import errors
from parley.providers.base import ChatRequest, ProviderEvent, TextDelta
from parley.providers.registry import ProviderRegistry
from parley.security.payer import NO_ACCESS, Access, KeyRule


class _Named:
    name: ClassVar[str] = "?"
    needs_key: ClassVar[bool] = False
    small_model: ClassVar[bool] = False
    max_prompt_chars = None

    def default_model(self) -> str:
        return "m"

    def resolve_model(self, model: str | None) -> str:
        return model or "m"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        yield TextDelta("x")


class OpenAI(_Named):
    name = "openai"
    needs_key = True


class Local(_Named):
    name = "local"


def registry(
    local: bool = True, operator_key: str | None = None, access_code: str | None = None
) -> ProviderRegistry:
    providers = {"openai": OpenAI(), **({"local": Local()} if local else {})}
    keys = KeyRule(operator_key=operator_key, access_code=access_code)
    return ProviderRegistry(providers, keys=keys)


def test_a_key_means_openai() -> None:
    choice = registry().choose(None, "sk-user", NO_ACCESS)
    assert choice.provider.name == "openai"
    assert (choice.api_key, choice.key_source) == ("sk-user", "user")


def test_no_key_means_local_when_available() -> None:
    choice = registry().choose(None, None, NO_ACCESS)
    assert choice.provider.name == "local" and choice.api_key is None


def test_no_key_and_no_local_is_401() -> None:
    with pytest.raises(errors.ApiKeyRequired):
        registry(local=False).choose(None, None, NO_ACCESS)


def test_explicit_provider_wins() -> None:
    assert registry().choose("local", "sk-user", NO_ACCESS).provider.name == "local"
    with pytest.raises(errors.ApiKeyRequired):
        registry().choose("openai", None, NO_ACCESS)
    with pytest.raises(errors.ProviderUnavailable):
        registry(local=False).choose("local", None, NO_ACCESS)


def test_operator_key_without_access_code() -> None:
    # Local development (PARLEY_OPERATOR_KEY_LOOPBACK): access is granted to this machine.
    choice = registry(operator_key="sk-op").choose(None, None, Access(granted=True))
    assert (choice.provider.name, choice.api_key, choice.key_source) == (
        "openai", "sk-op", "operator"
    )
    # Anyone else falls back to the offline model, or is told to bring a key.
    assert registry(operator_key="sk-op").choose(None, None, NO_ACCESS).provider.name == "local"
    with pytest.raises(errors.ApiKeyRequired, match="own machine"):
        registry(local=False, operator_key="sk-op").choose(None, None, NO_ACCESS)


def test_operator_key_behind_an_access_code() -> None:
    reg = registry(operator_key="sk-op", access_code="open sesame, 2026")
    # The code itself is checked before anything else (security/access.py): here the
    # caller either showed it (granted) or did not.
    assert reg.choose(None, None, Access(granted=True)).api_key == "sk-op"
    # Without the code, people fall back to the offline model...
    assert reg.choose(None, None, NO_ACCESS).provider.name == "local"
    # ...and with no offline model the code is required.
    no_local = registry(local=False, operator_key="sk-op", access_code="open sesame, 2026")
    with pytest.raises(errors.AccessCodeRequired):
        no_local.choose(None, None, NO_ACCESS)
    # A person's own key never needs the code.
    assert reg.choose(None, "sk-mine", NO_ACCESS).api_key == "sk-mine"
