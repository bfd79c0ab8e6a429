"""The offline partner: turns from the notes, briefs from the model, rewording under guard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

import pytest

from parley import errors
from parley.knowledge.compose import Composer
from parley.knowledge.library import load_library
from parley.knowledge.retrieval import Retriever
from parley.providers.base import ChatRequest, Message, ModelInfo, ProviderEvent, TextDelta
from parley.providers.grounded import NOTES_MODEL, GroundedProvider

TURN = "How do I make a settings page less overwhelming?"


class Scripted:
    """A stand-in for the local model: says what it is told, records what it was asked."""

    name: ClassVar[str] = "scripted"
    needs_key: ClassVar[bool] = False
    small_model: ClassVar[bool] = True
    max_prompt_chars = 9000

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.asked: list[ChatRequest] = []

    def default_model(self) -> str:
        return "tiny-model"

    def resolve_model(self, model: str | None) -> str:
        return "tiny-model"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        self.asked.append(request)
        for word in self.reply.split(" "):
            yield TextDelta(word + " ")


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer(Retriever(load_library()))


def turn(text: str, history: Sequence[Message] = (), mode: str = "sparring") -> ChatRequest:
    return ChatRequest(messages=(Message("system", "persona"), *history, Message("user", text)),
                       mode=mode)


async def answer(provider: GroundedProvider, request: ChatRequest) -> tuple[str, str]:
    text, model = "", ""
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ModelInfo):
            model = event.model
    return text, model


async def test_turns_are_answered_from_the_notes_without_the_model(composer: Composer) -> None:
    model = Scripted("unused")
    text, name = await answer(GroundedProvider(composer, model), turn(TURN))
    assert name == NOTES_MODEL and "settings" in text and text.endswith("?")
    assert model.asked == []


async def test_the_mode_shapes_the_answer(composer: Composer) -> None:
    provider = GroundedProvider(composer, None)
    text, _ = await answer(provider, turn("Critique our pricing page: four tiers, monthly only.",
                                          mode="critique"))
    assert text.startswith("What works: ") and "risk" in text


async def test_briefs_go_to_the_model(composer: Composer) -> None:
    model = Scripted("# Brief")
    request = ChatRequest(messages=(Message("user", "the conversation"),), task="brief")
    text, _ = await answer(GroundedProvider(composer, model), request)
    assert text.strip() == "# Brief" and model.asked == [request]
    with pytest.raises(errors.ProviderUnavailable):
        await answer(GroundedProvider(composer, None), request)


async def test_a_faithful_rewording_is_spoken(composer: Composer) -> None:
    model = Scripted("People open settings to change one thing, so put the most-changed "
                     "settings at the top and let the rest live deeper.")
    text, name = await answer(GroundedProvider(composer, model, rephrase=True), turn(TURN))
    assert text.startswith("People open settings") and text.endswith("?")
    assert name == f"{NOTES_MODEL}+tiny-model"
    assert TURN in model.asked[0].messages[-1].content


async def test_a_drifting_rewording_is_replaced_by_the_notes(composer: Composer) -> None:
    model = Scripted("A mix of custom-designed furniture with built in lighting fixtures and "
                     "limited edition product sets on Amazon Prime.")
    text, name = await answer(GroundedProvider(composer, model, rephrase=True), turn(TURN))
    assert "furniture" not in text and name == NOTES_MODEL
    assert any(text.startswith(line) for line in load_library().topic("settings").insights)


async def test_what_was_said_is_not_said_again(composer: Composer) -> None:
    provider = GroundedProvider(composer, None)
    first, _ = await answer(provider, turn(TURN))
    second, _ = await answer(provider, turn("And what else?", (
        Message("user", TURN), Message("assistant", first))))
    assert second and not set(first.split(". ")) & set(second.split(". "))
