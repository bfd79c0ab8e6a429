"""The offline sparring partner: Parley's design notes, retrieved per turn, said as they are
or (with PARLEY_LOCAL_REPHRASE) reworded by the small local model under a drift guard.

SmolLM2-135M alone answers design questions with nonsense (furniture for a settings page).
Grounded, each answer is one of the notes' insights, questions, risks or ideas, chosen for the
turn; the model may only reword the insight to use the person's words, and its text is spoken
only when the guard finds nothing in it that came from elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from parley import errors
from parley.knowledge.compose import Composer, Grounded
from parley.knowledge.guard import drift
from parley.providers.base import (
    ChatRequest,
    Message,
    ModelInfo,
    Provider,
    ProviderEvent,
    TextDelta,
)

log = logging.getLogger(__name__)

NOTES_MODEL = "parley-design-notes"
REWORD_TOKENS = 70
REWORD_PROMPT = (
    "You reword design advice for the product designer you are talking with. Keep its "
    "meaning and its words; connect it to what they said. One or two short spoken sentences. "
    "Nothing else."
)
CANNOT_SEE = ("Offline I can't see pictures, so this is from my notes on what you said; add "
              "an OpenAI key and I'll look at it.")
NO_BRIEF = ("The offline model isn't installed on this server, so it can't write a brief. "
            "Add an OpenAI key in Settings.")


class GroundedProvider:
    """Answers turns from the design notes; briefs (and rewording) go to the local model."""

    name: ClassVar[str] = "local"
    needs_key: ClassVar[bool] = False
    small_model: ClassVar[bool] = True

    def __init__(
        self, composer: Composer, model: Provider | None, *, rephrase: bool = False
    ) -> None:
        self.composer = composer
        self.model = model
        self.rephrase = rephrase and model is not None

    def default_model(self) -> str:
        return NOTES_MODEL

    def resolve_model(self, model: str | None) -> str:
        return NOTES_MODEL

    @property
    def max_prompt_chars(self) -> int | None:
        return self.model.max_prompt_chars if self.model is not None else None

    @property
    def label(self) -> str:
        """What answers offline, in words for the web app and /api/health."""
        if self.model is None:
            return "Parley's design notes"
        return f"Parley's design notes and a small offline model ({self.model.default_model()})"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        if request.task != "turn":
            if self.model is None:
                raise errors.ProviderUnavailable(NO_BRIEF)
            async for event in self.model.stream(request):
                yield event
            return
        turn, asked, said = _conversation(request.messages)
        grounded = self.composer.reply(turn, request.mode, history=asked, said=said)
        sentences = list(grounded.sentences)
        model = NOTES_MODEL
        if self.rephrase and grounded.topic is not None and request.mode == "sparring":
            reworded = await self._reword(turn, grounded)
            if reworded is not None:
                sentences = [reworded, sentences[-1]]
                model = f"{NOTES_MODEL}+{self.model.default_model() if self.model else ''}"
        if request.messages and request.messages[-1].images:
            sentences.insert(0, CANNOT_SEE)
        if request.heads_up:
            sentences.insert(0, request.heads_up)
        yield ModelInfo(model)
        for index, sentence in enumerate(sentences):
            yield TextDelta(sentence if index == len(sentences) - 1 else f"{sentence} ")

    async def _reword(self, turn: str, grounded: Grounded) -> str | None:
        """The model's rewording of the insight (all but the closing question), if it holds."""
        assert self.model is not None and grounded.topic is not None
        advice = " ".join(grounded.sentences[:-1])
        request = ChatRequest(
            messages=(Message("system", REWORD_PROMPT),
                      Message("user", f"They said: {turn}\nAdvice: {advice}")),
            max_tokens=REWORD_TOKENS,
        )
        parts = [event.text async for event in self.model.stream(request)
                 if isinstance(event, TextDelta)]
        text = " ".join("".join(parts).split())
        reason = drift(text, turn=turn, advice=advice, notes=grounded.topic.lines(),
                       words=self.composer.retriever.words)
        if reason is not None:
            log.info("the offline model's rewording was not used: %s", reason)
            return None
        return text


def _conversation(messages: Sequence[Message]) -> tuple[str, list[str], list[str]]:
    """The turn, what the person said before, and what Parley said."""
    turn = messages[-1].content if messages and messages[-1].role == "user" else ""
    earlier = messages[:-1]
    asked = [m.content for m in earlier if m.role == "user"]
    said = [m.content for m in earlier if m.role == "assistant"]
    return turn, asked, said
