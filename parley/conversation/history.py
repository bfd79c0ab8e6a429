"""Fitting a conversation into the model's prompt: newest turns first, the new message always."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from parley import errors
from parley.providers.base import Message, Role


class Turn(Protocol):
    """A past turn as a request carries it."""

    @property
    def role(self) -> Role: ...

    @property
    def content(self) -> str: ...

    @property
    def images(self) -> Sequence[str]: ...


def checked_history(
    history: Sequence[Turn], *, max_messages: int, max_message_chars: int
) -> list[Message]:
    """The history as provider messages, refusing more than the operator allows."""
    if len(history) > max_messages:
        raise errors.PayloadTooLarge(
            f"This conversation has more than {max_messages} turns. "
            "Start a new conversation to keep going."
        )
    # Earlier turns include the model's own answers, which may run longer than a message.
    too_long = max_message_chars * 4
    if any(len(turn.content) > too_long for turn in history):
        raise errors.PayloadTooLarge(
            "One of the earlier turns is too long to send. Start a new conversation."
        )
    return [Message(turn.role, turn.content, tuple(turn.images)) for turn in history]


def build_messages(
    system: str, history: Sequence[Message], message: str, *, budget_chars: int,
    images: tuple[str, ...] = (),
) -> tuple[Message, ...]:
    """System prompt, as much recent history as fits `budget_chars`, then the new message.

    History is dropped oldest first; the system prompt and the new message are never dropped.
    A kept history never starts with an assistant turn, so the model sees who spoke first.
    """
    remaining = budget_chars - len(system) - len(message)
    kept: list[Message] = []
    for turn in reversed(history):
        remaining -= len(turn.content)
        if remaining < 0:
            break
        kept.append(turn)
    kept.reverse()
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return (Message("system", system), *kept, Message("user", message, images))


def transcript(history: Sequence[Message], *, budget_chars: int) -> str:
    """The conversation as plain text ("Designer: ..." / "Parley: ..."), newest kept if too long."""
    lines: list[str] = []
    used = 0
    for turn in reversed(history):
        speaker = "Designer" if turn.role == "user" else "Parley"
        shown = len(turn.images)
        picture = f"[showed {shown} picture{'s' if shown > 1 else ''}] " if shown else ""
        line = f"{speaker}: {picture}{turn.content.strip()}"
        used += len(line) + 1
        if used > budget_chars and lines:
            break
        lines.append(line)
    lines.reverse()
    return "\n".join(lines)
