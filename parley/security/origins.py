"""Who may talk to this server: the Host it is called by, and the page a browser request is from.

Two attacks on a Parley that listens on a laptop: DNS rebinding (a page at
`rebind.evil.example` re-points its own name at 127.0.0.1 and then calls Parley as
"same-origin") and plain cross-site requests (a multipart upload or a form POST needs no
CORS preflight). The Host allowlist stops the first; refusing state-changing requests whose
`Origin` is another site, or whose `Sec-Fetch-Site` says cross-site, stops the second.
Clients that are not browsers send neither header and are unaffected.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.config import is_loopback_host

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

BAD_HOST = ("This server does not answer to that address. If you run it, add the name to "
            "PARLEY_ALLOWED_HOSTS.")
CROSS_SITE = ("Parley refused a request sent from another website. Open Parley itself to "
              "talk to it.")


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether a Host header's name is loopback, listed, or under a listed ".domain"."""
    if is_loopback_host(host) or host in allowed:
        return True
    return any(name.startswith(".") and (host.endswith(name) or host == name[1:])
               for name in allowed)


def _host_name(value: str) -> str:
    """The name in a Host header: no port, lower case; IPv6 without its brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _netloc(origin: str) -> tuple[str, int] | None:
    """An origin's host and port (the scheme's default when none is given); None if junk."""
    parts = urlsplit(origin)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        return parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None


def _host_port(host: str) -> int | None:
    """The port a Host header names explicitly, if any."""
    parts = urlsplit(f"//{host}")
    try:
        return parts.port
    except ValueError:
        return None


class HostOriginMiddleware:
    """400 for a Host this server does not answer to; 403 for a cross-site change."""

    def __init__(
        self, app: ASGIApp, *, hosts: frozenset[str], allowed_origins: list[str]
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = {n for n in map(_netloc, allowed_origins) if n is not None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not host_allowed(_host_name(host), self.hosts):
            await _refuse(scope, send, 400, "invalid_host", BAD_HOST)
            return
        unsafe = scope["type"] == "websocket" or scope["method"] in UNSAFE_METHODS
        if unsafe and not self._same_origin(headers, host):
            await _refuse(scope, send, 403, "cross_site_request", CROSS_SITE)
            return
        await self.app(scope, receive, send)

    def _same_origin(self, headers: Headers, host: str) -> bool:
        origin = headers.get("origin")
        given = _netloc(origin) if origin is not None else None
        if given is not None and given in self.origins:
            return True  # a front end the operator listed (PARLEY_ALLOWED_ORIGINS)
        if headers.get("sec-fetch-site") == "cross-site":
            return False
        if origin is None:
            return True  # not a browser's cross-origin request (curl, the SDKs, tests)
        if given is None:
            return False  # "null" (a sandboxed frame, a file://) or junk
        if given[0] != _host_name(host):
            return False
        # Another port on the same machine is another origin (any local web server). The
        # scheme is not compared: behind a proxy that ends TLS the app sees http while the
        # page says https, and the Host header then carries no port.
        port = _host_port(host)
        return port is None or port == given[1]


async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
