"""A cap on request body size, enforced before and while the body is read (OWASP API4)."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley import errors
from parley.routes.errors import parley_error_response

# Routes whose bodies may carry pictures (as data URLs).
IMAGE_PATHS = frozenset({"/api/conversation", "/api/brief", "/api/brief/update"})
# A turn kept in server history outside /api/conversation (a realtime call's), with pictures.
_KEPT_TURN = re.compile(r"/api/sessions/[^/]+/messages")


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over the limit: by Content-Length up front, by counting otherwise.

    Uploads to `/api/transcribe` get their own, larger limit.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, audio_bytes: int, image_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.audio_bytes = audio_bytes
        self.image_bytes = image_bytes or max_bytes

    def _limit(self, scope: Scope) -> int:
        path = scope["path"]
        # Multipart framing adds a few hundred bytes around the audio itself.
        if path == "/api/transcribe":
            return self.audio_bytes + 64 * 1024
        if path in IMAGE_PATHS or _KEPT_TURN.fullmatch(path):
            return max(self.max_bytes, self.image_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await self._reject(scope, receive, send, limit)
                    return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Starlette turns any error while reading the body into a 400, so the
                    # app's answer is replaced below instead of raising through it.
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # swallow the app's own error answer; the 413 goes out instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            pass
        if exceeded and not started:
            await self._reject(scope, receive, send, limit)

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        megabytes = limit / 1_000_000
        size = f"{megabytes:.1f} MB" if megabytes >= 1 else f"{limit // 1024} KB"
        error = errors.PayloadTooLarge(f"That request is larger than {size}. Send less at once.")
        await parley_error_response(error)(scope, receive, send)
