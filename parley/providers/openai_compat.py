"""OpenAI-compatible chat models (OpenAI, Ollama, vLLM, llama.cpp's server) via the official SDK."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import httpx2
import openai
from openai import AsyncAPIResponse, AsyncOpenAI

from parley import errors
from parley.providers.base import ChatRequest, Message, ModelInfo, ProviderEvent, TextDelta, Usage
from parley.providers.upstream import retry_after_seconds, translate_openai_error

log = logging.getLogger(__name__)

# A backoff step never waits longer than this, whatever the upstream asks for.
_MAX_BACKOFF = 4.0
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_DRAIN_SECONDS = 0.1
_STALLED = "The model stopped answering part-way through. Please try again."
_DROPPED = "The model service stopped in the middle of the answer. Please try again."


class OpenAICompatProvider:
    """Streams chat completions from any server that speaks OpenAI's Chat Completions API."""

    name: ClassVar[str] = "openai"
    needs_key: ClassVar[bool] = True
    small_model: ClassVar[bool] = False

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        models: list[str],
        first_token_timeout: float,
        max_retries: int,
        retry_budget: float,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._models = models
        self._first_token_timeout = first_token_timeout
        self._max_retries = max_retries
        self._retry_budget = retry_budget
        self._sleep = sleep

    def default_model(self) -> str:
        return self._models[0]

    @property
    def max_prompt_chars(self) -> int | None:
        return None

    def resolve_model(self, model: str | None) -> str:
        """The model to use: the operator's default, or one from the operator's allowlist."""
        if model is None:
            return self._models[0]
        if model not in self._models:
            raise errors.ModelNotAllowed(
                f"The model {model!r} is not available here. "
                f"Choose one of: {', '.join(self._models)}."
            )
        return model

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        if not request.api_key:
            raise errors.ApiKeyRequired()
        model = self.resolve_model(request.model)
        body: dict[str, Any] = {
            # The caller's key, as a header on this one request: `with_options(api_key=...)`
            # copies the whole client on every turn, a fifth of the relay's CPU under load.
            "extra_headers": {"Authorization": f"Bearer {request.api_key}"},
            "model": model,
            "stream": True,
            # The SDK walks typed params recursively before sending (about 100 µs per
            # message, 2 ms for a 20-turn history); Parley's messages are already plain JSON,
            # so they travel in extra_body, which the SDK sends as given.
            "messages": [],
            "extra_body": {
                "messages": [_wire(m) for m in request.messages],
                # Ollama, vLLM and llama.cpp's server all accept include_usage; servers
                # that do not never send the usage chunk, which Parley treats as unknown.
                "stream_options": {"include_usage": True},
            },
        }
        if request.output is not None:
            body["extra_body"]["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.output.name,
                    "strict": True,
                    "schema": request.output.schema,
                },
            }
        # request.max_tokens is not sent: servers disagree on the field's name (max_tokens,
        # max_completion_tokens, n_predict) and the prompts already keep answers short.
        response: AsyncAPIResponse[Any] | None = None
        started = False
        try:
            # The deadline covers connecting, retries and the first words; it wraps no
            # `yield`, because a timeout scope that spans a yield would cancel the consumer.
            async with asyncio.timeout(self._first_token_timeout):
                response = await self._open(body)
                lines = response.iter_lines()
                head, finished = await _read_until_text(lines)
            started = True
            for event in head:
                yield event
            if not finished:
                async for line in lines:
                    events, finished = _parse_line(line)
                    for event in events:
                        yield event
                    if finished:
                        break
            if not finished:
                # The connection ended cleanly but the reply never said it was complete:
                # the upstream dropped the stream.
                raise errors.UpstreamError(_DROPPED)
            await _drain(lines)
        except (TimeoutError, httpx2.TimeoutException):
            # After the first words, a timeout is the client's read timeout: the stream
            # went silent part-way (see setup.openai_client).
            raise (errors.UpstreamTimeout(_STALLED) if started else errors.UpstreamTimeout()
                   ) from None
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc) from None
        except httpx2.HTTPError:
            # Reading a streaming response surfaces the HTTP stack's own errors, unwrapped.
            raise errors.UpstreamError(_DROPPED) from None
        except json.JSONDecodeError:
            raise errors.UpstreamError(
                "The model service sent an answer Parley could not read. Please try again."
            ) from None
        finally:
            # Closing the response closes the upstream connection at once, so a person who
            # hangs up stops the upstream generating (and billing) straight away.
            if response is not None:
                await response.close()

    async def _open(self, body: dict[str, Any]) -> AsyncAPIResponse[Any]:
        # Through the SDK's streaming-response API: the SDK builds, authenticates and sends
        # the request and raises its typed errors for any non-2xx answer, but Parley reads
        # the SSE lines itself, because the SDK builds a pydantic model for every chunk
        # (~75 µs each, most of a turn's CPU on a busy server).
        # Retries live here rather than in the SDK because the SDK's retry loop has no total
        # time budget and retries quota errors (429 insufficient_quota) that never recover.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_budget
        attempt = 0
        while True:
            try:
                manager = self._client.chat.completions.with_streaming_response.create(**body)
                response: AsyncAPIResponse[Any] = await manager.__aenter__()
                return response
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None or attempt >= self._max_retries:
                    raise
                if loop.time() + delay > deadline:
                    raise
                attempt += 1
                log.info("upstream attempt %d failed (%s); retrying in %.2fs",
                         attempt, type(exc).__name__, delay)
                await self._sleep(delay)

    @staticmethod
    def _retry_delay(exc: openai.APIError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if isinstance(exc, openai.APITimeoutError):
            return None  # the first-token deadline already covers slow servers
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code not in _RETRYABLE_STATUS:
                return None
            if _is_quota_error(exc):
                return None
            asked = retry_after_seconds(exc.response.headers)
            if asked is not None:
                return asked if asked <= _MAX_BACKOFF else None
        backoff: float = min(0.25 * 2**attempt, _MAX_BACKOFF)
        return backoff * (0.75 + random.random() / 4)


def _wire(message: Message) -> dict[str, Any]:
    """A message as Chat Completions takes it: text, or text and pictures as content parts."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
    return {"role": message.role, "content": parts}


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read the end of the body after [DONE], briefly; the reply is complete either way.

    An HTTP/1.1 connection closed with unread bytes cannot go back to the pool, and a new
    one costs a TCP handshake on the next turn.
    """
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in lines:
                pass
    except (TimeoutError, httpx2.HTTPError):
        pass


async def _read_until_text(lines: AsyncIterator[str]) -> tuple[list[ProviderEvent], bool]:
    """Events up to and including the first text, and whether the reply already finished."""
    head: list[ProviderEvent] = []
    async for line in lines:
        events, finished = _parse_line(line)
        head.extend(events)
        if finished or any(isinstance(event, TextDelta) for event in events):
            return head, finished
    return head, False


def _parse_line(line: str) -> tuple[list[ProviderEvent], bool]:
    """The events in one SSE line of a chat completion stream, and whether it was the last."""
    if not line.startswith("data:"):
        return [], False  # blank separators, comments and `event:` lines
    data = line[5:].strip()
    if data == "[DONE]":
        return [], True
    chunk = json.loads(data)
    if not isinstance(chunk, dict):
        raise json.JSONDecodeError("not an object", data, 0)
    if chunk.get("error"):
        # OpenAI reports a failure after the headers as a data object with an `error` key.
        raise errors.UpstreamError(
            "The model service failed in the middle of the answer. Please try again."
        )
    events: list[ProviderEvent] = []
    if chunk.get("model") and chunk.get("choices") and "role" in chunk["choices"][0].get(
        "delta", {}
    ):
        events.append(ModelInfo(chunk["model"]))
    for choice in chunk.get("choices") or ():
        content = (choice.get("delta") or {}).get("content")
        if content:
            events.append(TextDelta(content))
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        events.append(Usage(int(usage.get("prompt_tokens", 0)),
                            int(usage.get("completion_tokens", 0)),
                            int(usage.get("total_tokens", 0))))
    return events, False


def _is_quota_error(exc: openai.APIStatusError) -> bool:
    body = exc.body
    return isinstance(body, dict) and body.get("code") == "insufficient_quota"
