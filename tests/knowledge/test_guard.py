"""The drift guard: a small model's rewording is spoken only when it stays on the notes."""

from __future__ import annotations

import pytest

from parley.knowledge.guard import drift
from parley.knowledge.library import load_library
from parley.knowledge.retrieval import Retriever

TURN = "How do I make a settings page less overwhelming?"
ADVICE = ("Most people come to settings to change one thing. Put the handful of "
          "most-changed settings at the top and let the rest live deeper.")


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    return Retriever(load_library())


def judge(retriever: Retriever, text: str) -> str | None:
    notes = load_library().topic("settings").lines()
    return drift(text, turn=TURN, advice=ADVICE, notes=notes, words=retriever.words)


def test_a_faithful_rewording_is_kept(retriever: Retriever) -> None:
    kept = ("People usually open settings to change one thing, so put the most-changed "
            "settings at the top and let the rest live deeper.")
    assert judge(retriever, kept) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # What SmolLM2 answered to this very question before the notes existed.
        ("A mix of physical and digital elements, from custom-designed furniture with built "
         "in lighting fixtures to 3D models and limited edition product sets on Amazon Prime.",
         "drifted"),
        ("The designer said: How do you make a settings page less overwhelming? Rewrite it.",
         "echoed"),
        ("**Settings:** put the most-changed settings at the top.", "markdown"),
        ("Settings.", "too short"),
        ("Put the most-changed settings at the top and let the rest live", "unfinished"),
        ("Let the rest of the page live deeper.", "lost the advice"),
    ],
)
def test_drift_falls_back_to_the_notes(retriever: Retriever, text: str, reason: str) -> None:
    verdict = judge(retriever, text)
    assert verdict is not None and verdict.startswith(reason), verdict
