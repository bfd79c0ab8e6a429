"""How well the living brief catches what a careful designer would write down.

Run with `python -m bench.brief_eval`. The set (tests/data/offline_brief_eval.json) is 15
scripted design conversations written independently of the extractor, each with the items a
careful note-taker would keep. The brief is updated as the web app updates it: after every
reply, with the turns it has not seen. A found item matches an expected one in the same
section, from the same turn, that shares at least half of its key words; each expected item
matches once.

Two paths: offline (the rules in parley.brief) and through the fake OpenAI upstream, which is
scripted to answer with the set's own items: that path checks the wiring (schema, merge,
turn links), not a model's judgement, so its figures should be perfect.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.brief.extract import extract
from parley.brief.schema import SECTIONS, Brief, SectionKey
from parley.brief.update import fold

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "offline_brief_eval.json"
# The goals for the offline path.
RECALL_GOAL = 0.6  # of decisions and constraints
PRECISION_GOAL = 0.8
GRADED: tuple[SectionKey, ...] = ("decisions", "constraints")

Turns = list[tuple[str, str]]
Updater = Callable[[Brief, Turns, int], Brief]


@dataclass
class Score:
    expected: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    produced: int = 0
    right: int = 0
    conflicts_expected: int = 0
    conflicts_found: int = 0
    conflicts_false: int = 0
    retracted: int = 0
    retracted_gone: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def recall(self, sections: Sequence[str]) -> float:
        total = sum(self.expected.get(s, 0) for s in sections)
        return sum(self.caught.get(s, 0) for s in sections) / total if total else 0.0

    @property
    def precision(self) -> float:
        return self.right / self.produced if self.produced else 0.0


def load() -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(DATA.read_text("utf-8"))["conversations"]
    return conversations


def offline(brief: Brief, turns: Turns, since: int) -> Brief:
    return fold(brief, extract(turns, since))


def run(conversation: dict[str, Any], update: Updater) -> Brief:
    """The brief after the whole conversation, updated after every reply as the app does."""
    turns: Turns = [(t["role"], t["content"]) for t in conversation["turns"]]
    brief = Brief()
    seen = 0
    for end in range(1, len(turns) + 1):
        if turns[end - 1][0] == "assistant" or end == len(turns):
            brief = update(brief, turns[:end], seen)
            seen = end
    return brief


def _matches(text: str, keys: Sequence[str]) -> bool:
    lowered = text.lower()
    return sum(key in lowered for key in keys) >= max(1, math.ceil(len(keys) / 2))


def score(conversations: Sequence[dict[str, Any]], update: Updater) -> Score:
    result = Score()
    for conversation in conversations:
        brief = run(conversation, update)
        expected = list(conversation["expected"])
        for item in expected:
            result.expected[item["section"]] = result.expected.get(item["section"], 0) + 1
        unmatched = list(expected)
        for key in SECTIONS:
            for item in brief.sections.get(key):
                result.produced += 1
                hit = next((e for e in unmatched if e["section"] == key and e["turn"] == item.turn
                            and _matches(item.text, e["keys"])), None)
                if hit is None:
                    result.extras.append(f"{conversation['id']} {key}: {item.text}")
                    continue
                unmatched.remove(hit)
                result.right += 1
                result.caught[key] = result.caught.get(key, 0) + 1
        result.misses += [f"{conversation['id']} {e['section']} t{e['turn']}: {e['text']}"
                          for e in unmatched]
        pairs = {(c["decisionTurn"], c["turn"]) for c in conversation.get("conflicts", [])}
        found = {(c.decision_turn, c.turn) for c in brief.conflicts}
        result.conflicts_expected += len(pairs)
        result.conflicts_found += len(pairs & found)
        result.conflicts_false += len(found - pairs)
        for gone in conversation.get("retracted", []):
            result.retracted += 1
            kept = brief.sections.get(gone["section"])
            if not any(i.turn == gone["turn"] and _matches(i.text, gone["keys"]) for i in kept):
                result.retracted_gone += 1
    return result


def report(name: str, result: Score, *, goals: bool) -> list[str]:
    recall = result.recall(GRADED)
    lines = [
        f"{name}: decisions+constraints recall {recall:.2f}"
        + (f" (goal >= {RECALL_GOAL}: {'met' if recall >= RECALL_GOAL else 'NOT met'})"
           if goals else ""),
        f"  precision {result.precision:.2f} ({result.right}/{result.produced})"
        + (f" (goal >= {PRECISION_GOAL}: "
           f"{'met' if result.precision >= PRECISION_GOAL else 'NOT met'})" if goals else ""),
        "  recall by section: " + ", ".join(
            f"{s} {result.caught.get(s, 0)}/{result.expected.get(s, 0)}" for s in SECTIONS),
        f"  all sections recall {result.recall(SECTIONS):.2f}; conflicts found "
        f"{result.conflicts_found}/{result.conflicts_expected} ({result.conflicts_false} false); "
        f"retractions honoured {result.retracted_gone}/{result.retracted}",
    ]
    return lines


def main(*, verbose: bool = False) -> None:
    conversations = load()
    result = score(conversations, offline)
    print("\n".join(report("Living brief, offline rules", result, goals=True)))
    if verbose:
        print("  missed:", *result.misses, sep="\n    ")
        print("  extra:", *result.extras, sep="\n    ")
    from bench.brief_fake import fake_path

    print("\n".join(report("Living brief, fake upstream (wiring)", fake_path(conversations),
                           goals=False)))


if __name__ == "__main__":
    import sys

    main(verbose="-v" in sys.argv)
