"""The one place turn events become the wire: a JSON answer, or SSE events."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from parley import errors
from parley.conversation.turn import Delta, Done, Failed, Sentence, TurnEvent
from parley.routes.errors import parley_error_response

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
    return {
        "reply": done.reply,
        "provider": done.provider,
        "model": done.model,
        "usage": asdict(done.usage) if done.usage is not None else None,
        "timings": asdict(done.timings),
    }


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
    if isinstance(event, Done):
        return _sse("done", done_payload(event))
    error = event.error
    return _sse("error", {"code": error.code, "message": error.message, "partial": event.partial})


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
    request: Request,
    events: AsyncGenerator[TurnEvent, None],
    *,
    stream: bool,
    release: Callable[[], None],
) -> Response:
    """Answer a turn as JSON or SSE. Failures before any text become plain HTTP errors.

    `release` is called once when the turn is over, however it ends.
    """
    handed_over = False
    try:
        first = await anext(events)
        if isinstance(first, Failed) and not first.partial:
            _note(request, first)
            raise first.error
        if not stream:
            return await _collect(request, first, events)
        response = EventStreamResponse(
            _sse_body(request, first, events, release), headers=SSE_HEADERS
        )
        handed_over = True
        return response
    finally:
        if not handed_over:
            await events.aclose()
            release()


async def _sse_body(
    request: Request,
    first: TurnEvent,
    events: AsyncGenerator[TurnEvent, None],
    release: Callable[[], None],
) -> AsyncIterator[bytes]:
    try:
        _note(request, first)
        yield encode(first)
        async for event in events:
            _note(request, event)
            yield encode(event)
    finally:
        await events.aclose()
        release()


async def _collect(
    request: Request, first: TurnEvent, events: AsyncGenerator[TurnEvent, None]
) -> Response:
    last = first
    async for event in events:
        last = event
    _note(request, last)
    if isinstance(last, Done):
        return JSONResponse(done_payload(last))
    if isinstance(last, Failed):
        return parley_error_response(last.error, partial=last.partial or None)
    raise errors.UpstreamError()  # unreachable: a turn always ends with Done or Failed


def _note(request: Request, event: TurnEvent) -> None:
    """Leave what the request log wants to know on the request state."""
    state = request.state
    if isinstance(event, Done):
        state.provider = event.provider
        state.model = event.model
        state.first_token_ms = event.timings.first_token_ms
        state.total_ms = event.timings.total_ms
    elif isinstance(event, Failed):
        state.error_code = event.error.code
