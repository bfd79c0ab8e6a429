"""Per-request logging and metrics, with a request id (X-Request-ID accepted or generated)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from parley.observability.metrics import Metrics

log = logging.getLogger("parley.request")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


@dataclass(slots=True)
class RequestRecord:
    """What one request's log line and metrics say, filled in as the request runs."""

    request_id: str
    provider_attempted: str | None = None
    provider: str | None = None
    model: str | None = None
    first_token_ms: float | None = None
    total_ms: float | None = None
    error_code: str | None = None


def request_record(request: Request) -> RequestRecord:
    """The request's record (a blank one when the log middleware is not in front)."""
    record = request.scope.setdefault("state", {}).get("record")
    if not isinstance(record, RequestRecord):
        record = RequestRecord(request_id="-")
        request.scope["state"]["record"] = record
    return record


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
        record = RequestRecord(request_id)
        scope.setdefault("state", {})["record"] = record
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
            self._record(scope, record, status, time.perf_counter() - started)

    def _record(self, scope: Scope, record: RequestRecord, status: int, seconds: float) -> None:
        route = _route(scope)
        if self.metrics is not None:
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if record.first_token_ms is not None and record.provider:
                self.metrics.first_token.labels(record.provider).observe(
                    record.first_token_ms / 1000
                )
            if record.error_code and record.provider_attempted:
                self.metrics.upstream_errors.labels(
                    record.provider_attempted, record.error_code
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
                "request_id": record.request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "provider": record.provider,
                "model": record.model,
                "first_token_ms": record.first_token_ms,
                "total_ms": record.total_ms,
                "error_code": record.error_code,
                "client": client[0] if client else None,
            },
        )
