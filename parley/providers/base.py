"""The chat provider interface: one async method that yields small typed events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

Role = Literal["system", "user", "assistant"]
# What a request is for: a spoken turn of a conversation, or writing a brief from one.
Task = Literal["turn", "brief"]


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
