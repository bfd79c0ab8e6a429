"""The chat provider interface: one async method that yields small typed events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

Role = Literal["system", "user", "assistant"]
# What a request is for: a spoken turn of a conversation, writing a brief from one, or
# updating the living brief after a turn (structured output).
Task = Literal["turn", "brief", "brief_update"]


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """Ask for JSON that follows `schema` (OpenAI structured outputs, strict)."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    # Pictures with this turn, as data URLs already checked and re-encoded (parley.images).
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a provider needs for one reply. `api_key` is the caller's key, if any."""

    messages: tuple[Message, ...]
    model: str | None = None
    api_key: str | None = None
    max_tokens: int | None = None
    task: Task = "turn"
    mode: str = "sparring"
    output: OutputSchema | None = None
    # A sentence the reply opens with (a clash with an earlier decision), for the offline
    # notes, which compose replies rather than follow a system prompt.
    heads_up: str | None = None

    def __repr__(self) -> str:
        # Never let a key reach a log line through a repr.
        key = "set" if self.api_key else "none"
        return f"ChatRequest(model={self.model!r}, messages={len(self.messages)}, api_key={key})"


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Sent once, before or with the first delta: the model that actually answered."""

    model: str


ProviderEvent = TextDelta | Usage | ModelInfo


class Provider(Protocol):
    """A chat model. `stream` yields events and raises `ParleyError`s, never vendor types."""

    name: ClassVar[str]
    needs_key: ClassVar[bool]
    # A small model needs a firmer length rule in its prompt.
    small_model: ClassVar[bool]

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]: ...

    def default_model(self) -> str: ...

    def resolve_model(self, model: str | None) -> str:
        """The model to use for a request asking for `model` (None: the default)."""
        ...

    @property
    def max_prompt_chars(self) -> int | None:
        """How much prompt text the model can take, if it is smaller than the operator's budget."""
        ...
