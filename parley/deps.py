"""Typed dependencies: the collaborators routes receive (tests swap them via overrides).

All are `async def`: FastAPI runs a plain `def` dependency in a worker thread, and those
thread hops were a large part of a turn's CPU.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import SecretStr

from parley.config import Settings
from parley.providers.registry import ProviderRegistry
from parley.security.keys import bearer_value, check_key_shape, is_session_token
from parley.speech.services import SpeechServices


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> ProviderRegistry:
    registry: ProviderRegistry = request.app.state.registry
    return registry


async def bearer_key(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """The key from `Authorization: Bearer <key>`, if the header carries one."""
    value = bearer_value(authorization)
    # A signed-in session's identity token is never an API key.
    if value is None or is_session_token(value):
        return None
    check_key_shape(value)
    return value


def person_key(own: SecretStr | str | None, bearer: str | None) -> str | None:
    """The person's own key: the body's (or form's) `apiKey`, else the Bearer header."""
    if isinstance(own, SecretStr):
        own = own.get_secret_value()
    return (own or "").strip() or bearer


async def access_code(
    x_parley_access_code: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """The operator access code, when the person entered one."""
    return x_parley_access_code or None


async def get_speech(request: Request) -> SpeechServices:
    """The app's speech engines (tests may override this dependency)."""
    speech: SpeechServices = request.app.state.speech
    return speech


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ProviderRegistry, Depends(get_registry)]
BearerKeyDep = Annotated[str | None, Depends(bearer_key)]
AccessCodeDep = Annotated[str | None, Depends(access_code)]
SpeechDep = Annotated[SpeechServices, Depends(get_speech)]
