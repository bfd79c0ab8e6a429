"""One turn: a provider's stream becomes deltas, speakable sentences, then done.

A provider's failure is raised, not turned into an event: whoever renders the turn (JSON or
SSE, `parley.routes.streaming`) decides how it looks, knowing how much text went out.
"""

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
class Sentence:
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class Delta:
    text: str
    # Sentences this text completed: sent with it, in one write, right after it.
    sentences: tuple[Sentence, ...] = ()


@dataclass(frozen=True, slots=True)
class Done:
    reply: str
    provider: str
    model: str
    usage: Usage | None
    timings: Timings
    # With server history: whether the server kept the turn (None: it was not asked to).
    saved: bool | None = None


TurnEvent = Delta | Sentence | Done


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """The longest a turn may run, whatever the provider does.

    A stalled stream is the provider's to end (the OpenAI client's read timeout, the
    local model's token limit): a timeout scope around every event here cost more than
    the rest of the turn's bookkeeping together.
    """

    total_seconds: float
    # How long a turn may wait for the offline model behind the same person's last turn.
    queue_seconds: float = 15.0


async def run_turn(
    provider: Provider,
    request: ChatRequest,
    limits: TurnLimits,
    *,
    speak: bool = True,
) -> AsyncGenerator[TurnEvent, None]:
    """Stream one reply, ending with one `Done`; a failure raises its `ParleyError`.

    Sentences ride on the `Delta` that completes them; the last one (after the stream
    ends) comes as a `Sentence`. `speak=False` skips sentences (a brief is read, not spoken).
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
        async for event in upstream:
            if isinstance(event, TextDelta):
                now = loop.time()
                if now >= deadline:
                    raise errors.StreamTooLong()
                if first_token_at is None:
                    first_token_at = now
                parts.append(event.text)
                sentences: tuple[Sentence, ...] = ()
                if splitter is not None:
                    done = splitter.feed(event.text)
                    if done:
                        sentences = tuple(Sentence(index + i, t) for i, t in enumerate(done))
                        index += len(done)
                yield Delta(event.text, sentences)
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, ModelInfo):
                model = event.model
        if splitter is not None:
            for text in splitter.flush():
                yield Sentence(index, text)
                index += 1
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
