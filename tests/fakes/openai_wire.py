"""What every fake OpenAI endpoint answers the same way: error bodies, keys, headers.

Shared by the chat/audio fake (openai_server) and the Realtime fake (realtime_peer), so the
two cannot drift apart from OpenAI's wire format, or from each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from aiohttp import web

MISSING_KEY_MESSAGE: Final = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)


def error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """OpenAI's error body. It pretty-prints these, unlike its compact success bodies."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return web.Response(
        status=status,
        body=(json.dumps(body, indent=2) + "\n").encode(),
        content_type="application/json",
        headers=headers,
    )


def bearer(authorization: str | None) -> str | None:
    """The credential in `Authorization: Bearer <key>`, if any."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def masked(key: str) -> str:
    # OpenAI quotes the key's start and its last four characters; tests rely on those
    # four characters to prove Parley never passes the message on.
    if len(key) <= 10:
        return key[:2] + "*" * 4 + key[-4:]
    return key[:6] + "*" * max(len(key) - 10, 4) + key[-4:]


def invalid_key(key: str) -> web.Response:
    """The 401 for a key OpenAI does not know."""
    return error(
        401,
        f"Incorrect API key provided: {masked(key)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def missing_key() -> web.Response:
    """The 401 for a request without a key."""
    return error(401, MISSING_KEY_MESSAGE)


def unknown_url(request: web.Request) -> web.Response:
    """OpenAI's 404 for a path it does not serve."""
    return error(404, f"Invalid URL ({request.method} {request.path})")


def headers_of(request: web.Request) -> dict[str, str]:
    """The request headers with lower-case names, repeated ones joined as HTTP joins them."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
