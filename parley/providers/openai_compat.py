"""OpenAI-compatible chat models (OpenAI, Ollama, vLLM, llama.cpp's server) via the official SDK."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import openai
from openai import AsyncOpenAI

from parley import errors
from parley.providers.base import ChatRequest, ModelInfo, ProviderEvent, TextDelta, Usage
from parley.providers.upstream import retry_after_seconds, translate_openai_error

log = logging.getLogger(__name__)

# A backoff step never waits longer than this, whatever the upstream asks for.
_MAX_BACKOFF = 4.0
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class OpenAICompatProvider:
    """Streams chat completions from any server that speaks OpenAI's Chat Completions API."""

    name: ClassVar[str] = "openai"
    needs_key: ClassVar[bool] = True
    can_stream: ClassVar[bool] = True
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
        client = self._client.with_options(api_key=request.api_key)
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
            # Ollama, vLLM and llama.cpp's server all accept include_usage; servers that
            # do not simply never send the usage chunk, which Parley treats as "unknown".
            "stream_options": {"include_usage": True},
        }
        # request.max_tokens is not sent: servers disagree on the field's name (max_tokens,
        # max_completion_tokens, n_predict) and the prompts already keep answers short.
        stream: openai.AsyncStream[Any] | None = None
        try:
            # The deadline covers connecting, retries and the first words; it wraps no
            # `yield`, because a timeout scope that spans a yield would cancel the consumer.
            async with asyncio.timeout(self._first_token_timeout):
                stream = await self._open(client, body)
                chunks = stream.__aiter__()
                head, finished = await _read_until_text(chunks)
            for event in head:
                yield event
            async for chunk in chunks:
                events, done = _events_from(chunk)
                for event in events:
                    yield event
                finished = finished or done
            if not finished:
                # The connection ended cleanly but the reply never said it was complete:
                # the upstream dropped the stream.
                raise errors.UpstreamError(
                    "The model service stopped in the middle of the answer. Please try again."
                )
        except TimeoutError:
            raise errors.UpstreamTimeout() from None
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc) from None
        except json.JSONDecodeError:
            # The SDK raises JSONDecodeError for a chunk that is not JSON.
            raise errors.UpstreamError(
                "The model service sent an answer Parley could not read. Please try again."
            ) from None
        finally:
            # Closing the response closes the upstream connection at once, so a person who
            # hangs up stops the upstream generating (and billing) straight away.
            if stream is not None:
                await stream.close()

    async def _open(
        self, client: AsyncOpenAI, body: dict[str, Any]
    ) -> openai.AsyncStream[Any]:
        # Retries live here rather than in the SDK because the SDK's retry loop has no total
        # time budget and retries quota errors (429 insufficient_quota) that never recover.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_budget
        attempt = 0
        while True:
            try:
                stream: openai.AsyncStream[Any] = await client.chat.completions.create(**body)
                return stream
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


async def _read_until_text(chunks: AsyncIterator[Any]) -> tuple[list[ProviderEvent], bool]:
    """Events up to and including the first text, and whether the reply already finished."""
    head: list[ProviderEvent] = []
    finished = False
    async for chunk in chunks:
        if not head and chunk.model:
            head.append(ModelInfo(chunk.model))
        events, done = _events_from(chunk)
        head.extend(events)
        finished = finished or done
        if any(isinstance(event, TextDelta) for event in events):
            break
    return head, finished


def _events_from(chunk: Any) -> tuple[list[ProviderEvent], bool]:
    events: list[ProviderEvent] = []
    finished = False
    for choice in chunk.choices:
        if choice.delta.content:
            events.append(TextDelta(choice.delta.content))
        if choice.finish_reason is not None:
            finished = True
    if chunk.usage is not None:
        usage = chunk.usage
        events.append(Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens))
    return events, finished


def _is_quota_error(exc: openai.APIStatusError) -> bool:
    body = exc.body
    return isinstance(body, dict) and body.get("code") == "insufficient_quota"
