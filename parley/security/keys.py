"""API keys as requests carry them: where the credential is, and whether it can be sent on."""

from __future__ import annotations

import re

from parley import errors

# Printable ASCII without spaces: nothing else can travel in an HTTP header. A pasted key
# with a stray "é" or line break would otherwise fail deep in the HTTP client as an
# encoding error, a 500 instead of something the person can fix.
_SENDABLE = re.compile(r"[\x21-\x7e]+")
BAD_KEY = "That API key has characters an OpenAI key never has. Paste it again in Settings."


def sendable(key: str) -> bool:
    """Whether `key` could go in an `Authorization` header as it is."""
    return _SENDABLE.fullmatch(key) is not None


def check_key_shape(key: str) -> None:
    """Refuse (401 invalid_api_key) a key that could never be sent."""
    if key and not sendable(key):
        raise errors.InvalidApiKey(BAD_KEY)


def bearer_value(authorization: str | None) -> str | None:
    """The credential in `Authorization: Bearer <value>`, if the header carries one."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def is_session_token(value: str) -> bool:
    """Signed-in sessions send an identity token (a JWT, "eyJ...") as the Bearer value."""
    return value.startswith("eyJ")
