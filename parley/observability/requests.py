"""Per-request logging and metrics, with a request id (X-Request-ID accepted or generated)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from parley.observability.metrics import Metrics

log = logging.getLogger("parley.request")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path.startswith("/api"):
        return path
    return "/api/other" if scope["path"].startswith("/api") else "static"


class RequestLogMiddleware:
    """One log line and one metrics sample per request, after its last byte."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []), (b"x-request-id", request_id.encode())
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, state, status, time.perf_counter() - started)

    def _record(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        route = _route(scope)
        if self.metrics is not None:
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            first = state.get("first_token_ms")
            if first is not None and state.get("provider"):
                self.metrics.first_token.labels(state["provider"]).observe(first / 1000)
            if state.get("error_code") and state.get("provider_attempted"):
                self.metrics.upstream_errors.labels(
                    state["provider_attempted"], state["error_code"]
                ).inc()
        if route == "static" and status < 400:
            return  # the web app's files are not worth a line each
        client = scope.get("client")
        log.info(
            "%s %s %s",
            scope["method"],
            route,
            status,
            extra={
                "request_id": state["request_id"],
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "provider": state.get("provider"),
                "model": state.get("model"),
                "first_token_ms": state.get("first_token_ms"),
                "total_ms": state.get("total_ms"),
                "error_code": state.get("error_code"),
                "client": client[0] if client else None,
            },
        )
