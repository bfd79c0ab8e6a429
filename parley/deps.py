"""Typed dependencies: the collaborators routes receive (tests swap them via overrides).

All are `async def`: FastAPI runs a plain `def` dependency in a worker thread, and those
thread hops were a large part of a turn's CPU.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from parley import errors
from parley.config import Settings
from parley.providers.registry import ProviderRegistry
from parley.speech.services import SpeechServices


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> ProviderRegistry:
    registry: ProviderRegistry = request.app.state.registry
    return registry


_KEY_SHAPE = re.compile(r"[\x21-\x7e]+")


async def bearer_key(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    """The key from `Authorization: Bearer <key>`, if the header carries one."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    # Signed-in sessions send an identity token (a JWT, "eyJ...") as the Bearer value;
    # that is never an API key.
    if value.startswith("eyJ"):
        return None
    if not _KEY_SHAPE.fullmatch(value):
        raise errors.InvalidApiKey(
            "That API key has characters an API key cannot have. Copy it again from OpenAI."
        )
    return value


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
