"""run_turn: a provider's events become deltas with their sentences, then one Done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

import pytest

from parley import errors
from parley.conversation.turn import Delta, Done, Sentence, TurnEvent, TurnLimits, run_turn
from parley.providers.base import ChatRequest, Message, ModelInfo, ProviderEvent, TextDelta, Usage

REQUEST = ChatRequest(messages=(Message("user", "Hi"),), model="asked-for")
ROOMY = TurnLimits(total_seconds=60)


class Scripted:
    """A provider that yields what it is given, then optionally fails; it notes being closed."""

    name: ClassVar[str] = "scripted"
    needs_key: ClassVar[bool] = False
    small_model: ClassVar[bool] = False
    max_prompt_chars = None

    def __init__(self, events: Sequence[ProviderEvent], fail: errors.ParleyError | None = None):
        self.events = events
        self.fail = fail
        self.closed = False

    def default_model(self) -> str:
        return "default"

    def resolve_model(self, model: str | None) -> str:
        return model or "default"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        try:
            for event in self.events:
                yield event
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed = True


async def collect(provider: Scripted, limits: TurnLimits = ROOMY, *, speak: bool = True
                  ) -> list[TurnEvent]:
    return [event async for event in run_turn(provider, REQUEST, limits, speak=speak)]


async def test_sentences_ride_on_the_delta_that_completes_them() -> None:
    provider = Scripted([TextDelta("Start small. Then"), TextDelta(" grow it"),
                         TextDelta(" with care")])
    events = await collect(provider)
    assert events[0] == Delta("Start small. Then", (Sentence(0, "Start small."),))
    assert events[1] == Delta(" grow it")
    assert events[2] == Delta(" with care")
    # The last sentence has no ending to complete it: it comes when the stream ends.
    assert events[3] == Sentence(1, "Then grow it with care")
    done = events[4]
    assert isinstance(done, Done) and len(events) == 5
    assert done.reply == "Start small. Then grow it with care"
    assert (done.provider, done.model) == ("scripted", "asked-for")
    assert done.timings.first_token_ms is not None
    assert done.timings.total_ms >= done.timings.first_token_ms


async def test_the_model_that_answered_and_its_usage_are_reported() -> None:
    usage = Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15)
    provider = Scripted([ModelInfo("actual-model-2026"), TextDelta("Yes."), usage])
    done = (await collect(provider))[-1]
    assert isinstance(done, Done)
    assert done.model == "actual-model-2026" and done.usage == usage


async def test_a_turn_not_spoken_has_no_sentences() -> None:
    events = await collect(Scripted([TextDelta("# Brief\n\nOne. Two.")]), speak=False)
    assert [type(e) for e in events] == [Delta, Done]
    assert events[0] == Delta("# Brief\n\nOne. Two.")


async def test_an_empty_answer_is_done_with_no_first_token() -> None:
    events = await collect(Scripted([]))
    assert len(events) == 1 and isinstance(events[0], Done)
    assert events[0].reply == "" and events[0].timings.first_token_ms is None


async def test_a_failure_part_way_is_raised_after_the_text_that_came() -> None:
    provider = Scripted([TextDelta("Half an ")], fail=errors.UpstreamTimeout())
    seen: list[TurnEvent] = []
    with pytest.raises(errors.UpstreamTimeout):
        async for event in run_turn(provider, REQUEST, ROOMY):
            seen.append(event)
    assert seen == [Delta("Half an ")]
    assert provider.closed


async def test_a_turn_past_its_deadline_stops() -> None:
    provider = Scripted([TextDelta("Too"), TextDelta(" late")])
    with pytest.raises(errors.StreamTooLong):
        await collect(provider, TurnLimits(total_seconds=0))
    assert provider.closed


async def test_closing_the_turn_early_closes_the_provider_stream() -> None:
    provider = Scripted([TextDelta("One. "), TextDelta("Two. "), TextDelta("Three.")])
    events = run_turn(provider, REQUEST, ROOMY)
    assert isinstance(await anext(events), Delta)
    await events.aclose()
    assert provider.closed
