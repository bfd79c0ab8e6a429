"""The offline evaluation's rubric: what makes an answer one a designer would call relevant.

Shared by the test (tests/knowledge/test_eval.py) and `make bench` (bench/offline_eval.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.knowledge.compose import sentences

DATA = Path(__file__).resolve().parent.parent / "data"
EVAL_FILES = ("offline_eval.json", "offline_eval_heldout.json")
_MARKDOWN = re.compile(r"(^|\n)\s*([#>*\-]|\d+\.)\s|\*\*|`|__")


@dataclass(frozen=True)
class Prompt:
    prompt: str
    topic: str
    mode: str
    file: str


def prompts() -> list[Prompt]:
    found = []
    for name in EVAL_FILES:
        items: list[dict[str, Any]] = json.loads((DATA / name).read_text("utf-8"))
        found += [Prompt(i["prompt"], i["topic"], i["mode"], name) for i in items]
    return found


def problems(
    answer: str, prompt: Prompt, *, topic_lines: tuple[str, ...],
    words: Callable[[str], list[str]],
) -> list[str]:
    """What is wrong with an answer (empty: it passes)."""
    wrong = []
    said = set(words(answer))
    if not said & (set(words(prompt.prompt)) | {w for line in topic_lines for w in words(line)}):
        wrong.append("off topic")
    if _MARKDOWN.search(answer):
        wrong.append("markdown")
    parts = sentences(answer)
    if prompt.mode in ("sparring", "critique") and len(parts) > 3:
        wrong.append(f"{len(parts)} sentences")
    if prompt.mode == "sparring" and (not parts or not parts[-1].endswith("?")
                                      or answer.count("?") != 1):
        wrong.append("does not end with one question")
    if prompt.mode == "critique":
        lowered = answer.lower()
        for part, cues in (("what works", ("works", "strength", "right instinct", "good")),
                           ("the biggest risk", ("risk",)),
                           ("one change", ("try", "change"))):
            if not any(cue in lowered for cue in cues):
                wrong.append(f"no {part}")
    if prompt.mode == "brainstorm":
        ideas = {p.lower() for p in parts if not p.endswith("?")}
        if len(ideas) < 5:
            wrong.append(f"{len(ideas)} ideas")
    return wrong
