"""The designer persona: system prompts per mode, kept as text files in the package."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Literal

Mode = Literal["sparring", "critique", "brainstorm"]
MODES: tuple[Mode, ...] = ("sparring", "critique", "brainstorm")


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


def brief_prompt() -> str:
    """The system prompt that turns a conversation into a Markdown design brief."""
    return _prompt("brief")
