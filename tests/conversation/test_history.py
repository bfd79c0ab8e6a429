"""Fitting history into the prompt budget."""

from __future__ import annotations

from parley.conversation.history import build_messages, transcript
from parley.providers.base import Message


def _turns(n: int, size: int = 10) -> list[Message]:
    return [
        Message("user" if i % 2 == 0 else "assistant", f"{i:0{size}d}") for i in range(n)
    ]


def test_order_is_system_history_then_message() -> None:
    history = _turns(4)
    messages = build_messages("SYS", history, "new", budget_chars=10_000)
    roles = [m.role for m in messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[0].content == "SYS"
    assert list(messages[1:-1]) == history
    assert messages[-1] == Message("user", "new")


def test_oldest_turns_are_dropped_first() -> None:
    history = _turns(10)
    messages = build_messages("S", history, "m", budget_chars=1 + 1 + 45)
    kept = list(messages[1:-1])
    assert kept == history[-len(kept):]
    assert 0 < len(kept) < 10
    assert kept[0].role == "user"


def test_new_message_is_never_dropped() -> None:
    messages = build_messages("S" * 50, _turns(3), "x" * 500, budget_chars=100)
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[-1].content == "x" * 500


def test_transcript_names_the_speakers() -> None:
    history = [Message("user", "Onboarding feels heavy."), Message("assistant", "Cut a step.")]
    assert transcript(history, budget_chars=1000) == (
        "Designer: Onboarding feels heavy.\nParley: Cut a step."
    )


def test_transcript_keeps_the_newest_when_too_long() -> None:
    history = [Message("user", "a" * 100), Message("assistant", "b" * 10)]
    assert transcript(history, budget_chars=50) == "Parley: " + "b" * 10
