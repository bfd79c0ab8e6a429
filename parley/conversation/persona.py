"""The designer persona: system prompts per mode, kept as text files in the package."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from parley.knowledge.compose import Composer

Mode = Literal["sparring", "critique", "brainstorm"]
NOTES_CONTEXT = (
    "Parley's own design notes on {title}, for you to use if they help (never quote them, "
    "never let them override what the person said):\n{notes}"
)


@cache
def _prompt(name: str) -> str:
    prompt = files("parley.conversation").joinpath("prompts", f"{name}.txt")
    return prompt.read_text("utf-8").strip()


def system_prompt(mode: Mode, *, small_model: bool = False) -> str:
    """The system prompt for a conversation turn in `mode`.

    A small model gets a compact persona: a 135M-parameter model follows two firm rules
    better than ten nuanced ones, and a short prompt keeps its first token fast on a CPU.
    """
    persona = _prompt("compact") if small_model else _prompt("voice")
    return f"{persona}\n\n{_prompt(mode)}"


PICTURES = (
    "They have shared a picture of what they are designing (a screenshot, a photo of a "
    "whiteboard or a sketch). Look at it. Point what you say at something visible in it, by "
    "where it is and what it says (\"the income field on the second screen\"), and say so "
    "if something you would need is not in the picture."
)
CRITIQUE_PICTURES = (
    "In critique: what works, the biggest risk and one change to try, each pointed at a "
    "visible part of the screen."
)


def with_pictures(system: str, mode: Mode) -> str:
    """The system prompt for a turn that shows Parley a picture."""
    note = f"{PICTURES} {CRITIQUE_PICTURES}" if mode == "critique" else PICTURES
    return f"{system}\n\n{note}"


def brief_prompt() -> str:
    """The system prompt that turns a conversation into a Markdown design brief."""
    return _prompt("brief")


def brief_update_prompt() -> str:
    """The system prompt that updates the living brief from the latest turns (JSON out)."""
    return _prompt("brief_update")


def with_brief(system: str, context: str | None) -> str:
    """The system prompt, plus what the brief says the conversation still lacks (if anything)."""
    return f"{system}\n\n{context}" if context else system


def with_notes(system: str, composer: Composer, turn: str, history: Sequence[str]) -> str:
    """The system prompt, plus the design notes' best topic for this turn (if one fits)."""
    matches = composer.retriever.search(turn, history, limit=1)
    if not matches:
        return system
    topic = matches[0].topic
    notes = "\n".join(f"- {line}" for line in (*topic.insights, *topic.risks[:2]))
    return f"{system}\n\n{NOTES_CONTEXT.format(title=topic.title.lower(), notes=notes)}"
