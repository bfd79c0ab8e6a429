"""One turn: a provider's stream becomes deltas, speakable sentences, then done or error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from parley import errors
from parley.conversation.sentences import SentenceSplitter
from parley.providers.base import ChatRequest, ModelInfo, Provider, TextDelta, Usage


@dataclass(frozen=True, slots=True)
class Timings:
    first_token_ms: float | None
    total_ms: float


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class Done:
    reply: str
    provider: str
    model: str
    usage: Usage | None
    timings: Timings


@dataclass(frozen=True, slots=True)
class Failed:
    error: errors.ParleyError
    partial: str


TurnEvent = Delta | Sentence | Done | Failed


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """Deadlines for the part of a turn after the provider's own first-token deadline."""

    total_seconds: float
    idle_seconds: float = 30.0


async def run_turn(
    provider: Provider,
    request: ChatRequest,
    limits: TurnLimits,
    *,
    speak: bool = True,
) -> AsyncGenerator[TurnEvent, None]:
    """Stream one reply. Always ends with exactly one `Done` or `Failed`.

    `speak=False` skips sentence events (a brief is read, not spoken).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + limits.total_seconds
    splitter = SentenceSplitter() if speak else None
    parts: list[str] = []
    model = request.model or provider.default_model()
    usage: Usage | None = None
    first_token_at: float | None = None
    index = 0
    upstream = provider.stream(request).__aiter__()
    try:
        while True:
            now = loop.time()
            if now >= deadline:
                raise errors.StreamTooLong()
            # The timeout wraps only the await, never a yield (see openai_compat).
            try:
                async with asyncio.timeout_at(min(deadline, now + limits.idle_seconds)):
                    event = await anext(upstream)
            except StopAsyncIteration:
                break
            except TimeoutError:
                if loop.time() >= deadline:
                    raise errors.StreamTooLong() from None
                raise errors.UpstreamTimeout(
                    "The model stopped answering part-way through. Please try again."
                ) from None
            if isinstance(event, TextDelta):
                if first_token_at is None:
                    first_token_at = loop.time()
                parts.append(event.text)
                yield Delta(event.text)
                if splitter is not None:
                    for text in splitter.feed(event.text):
                        yield Sentence(index, text)
                        index += 1
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, ModelInfo):
                model = event.model
        if splitter is not None:
            for text in splitter.flush():
                yield Sentence(index, text)
                index += 1
    except errors.ParleyError as exc:
        yield Failed(exc, "".join(parts))
        return
    finally:
        await upstream.aclose()  # type: ignore[attr-defined]
    first_ms = None if first_token_at is None else _ms(first_token_at - started)
    yield Done(
        reply="".join(parts),
        provider=provider.name,
        model=model,
        usage=usage,
        timings=Timings(first_token_ms=first_ms, total_ms=_ms(loop.time() - started)),
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
