"""The one place turn events become the wire: a JSON answer, or SSE events."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from parley import errors
from parley.conversation.turn import Delta, Done, Sentence, TurnEvent
from parley.observability.requests import RequestRecord
from parley.routes.errors import parley_error_response
from parley.security.local_jobs import Gone, unless_gone

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    # nginx (and Vercel's proxy) buffer responses unless told not to; SSE must flow.
    "X-Accel-Buffering": "no",
}


def wants_stream(request: Request, stream_flag: bool) -> bool:
    """SSE when asked by `"stream": true` or by `Accept: text/event-stream`."""
    return stream_flag or "text/event-stream" in request.headers.get("accept", "")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {_json(data)}\n\n".encode()


def done_payload(done: Done) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "reply": done.reply,
        "provider": done.provider,
        "model": done.model,
        "usage": asdict(done.usage) if done.usage is not None else None,
        "timings": asdict(done.timings),
    }
    if done.saved is not None:
        payload["saved"] = done.saved
    return payload


def _sentence(sentence: Sentence) -> bytes:
    return _sse("sentence", {"index": sentence.index, "text": sentence.text})


def encode(event: TurnEvent) -> bytes:
    """One turn event as SSE bytes: a delta and the sentences it completed go out together."""
    if isinstance(event, Delta):
        frame = _sse("delta", {"text": event.text})
        if event.sentences:
            frame += b"".join(_sentence(s) for s in event.sentences)
        return frame
    if isinstance(event, Sentence):
        return _sentence(event)
    return _sse("done", done_payload(event))


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that always closes its body iterator when the response ends.

    Starlette cancels the response task when the client disconnects; if that happens while
    the body iterator is suspended, the iterator would be closed only by the garbage
    collector. Closing it here stops the upstream request (or subprocess) at once.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


class EventStreamResponse(ClosingStreamingResponse):
    media_type = "text/event-stream"


async def respond(
    events: AsyncGenerator[TurnEvent, None], *, stream: bool, record: RequestRecord,
    gone: Gone | None = None,
) -> Response:
    """Answer a turn as JSON or SSE.

    A failure before any text propagates as the error it is (the app's error handler renders
    it, with `Retry-After` where it applies); a failure part-way is rendered here, in the
    answer's own format, with the text that had already gone out.
    """
    try:
        # A turn still waiting for its first words (a queue, a slow upstream) is dropped as
        # soon as its client hangs up: nobody would hear it, and someone may pay for it.
        first = await (unless_gone(anext(events), gone) if gone else anext(events))
    except BaseException:
        await events.aclose()
        raise
    if not stream:
        return await _collect(first, events, record)
    return EventStreamResponse(_sse_body(first, events, record), headers=SSE_HEADERS)


async def _sse_body(
    first: TurnEvent, events: AsyncGenerator[TurnEvent, None], record: RequestRecord
) -> AsyncIterator[bytes]:
    partial = _Partial()
    try:
        partial.add(first)
        _note(record, first)
        yield encode(first)
        async for event in events:
            partial.add(event)
            _note(record, event)
            yield encode(event)
    except errors.ParleyError as exc:
        record.error_code = exc.code
        yield _sse("error", {"code": exc.code, "message": exc.message, "partial": partial.text})
    finally:
        await events.aclose()


async def _collect(
    first: TurnEvent, events: AsyncGenerator[TurnEvent, None], record: RequestRecord
) -> Response:
    partial = _Partial()
    last = first
    try:
        partial.add(first)
        async for event in events:
            partial.add(event)
            last = event
    except errors.ParleyError as exc:
        record.error_code = exc.code
        return parley_error_response(exc, partial=partial.text or None)
    finally:
        await events.aclose()
    if not isinstance(last, Done):
        raise errors.UpstreamError()  # unreachable: a finished turn ends with Done
    _note(record, last)
    return JSONResponse(done_payload(last))


class _Partial:
    """The reply text sent so far, for an answer cut short."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, event: TurnEvent) -> None:
        if isinstance(event, Delta):
            self.parts.append(event.text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _note(record: RequestRecord, event: TurnEvent) -> None:
    """Fill in what the request log wants to know about the turn."""
    if isinstance(event, Done):
        record.provider = event.provider
        record.model = event.model
        record.first_token_ms = event.timings.first_token_ms
        record.total_ms = event.timings.total_ms
