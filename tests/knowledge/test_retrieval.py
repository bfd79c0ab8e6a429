"""Retrieval: the right topic for a designer's turn, and nothing for a turn about nothing."""

from __future__ import annotations

import pytest

from parley.knowledge.library import load_library
from parley.knowledge.retrieval import Retriever
from tests.knowledge.rubric import prompts


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    return Retriever(load_library())


@pytest.mark.parametrize("name", ["offline_eval.json", "offline_eval_heldout.json"])
def test_top_one_accuracy_is_at_least_85_percent(retriever: Retriever, name: str) -> None:
    cases = [p for p in prompts() if p.file == name]
    tops = [(p, retriever.search(p.prompt)) for p in cases]
    hits = [p for p, found in tops if found and found[0].topic.id == p.topic]
    assert len(hits) / len(cases) >= 0.85, f"{len(hits)} of {len(cases)}"


@pytest.mark.parametrize("turn", ["Tell me a joke", "How are you today?", "What's the weather?",
                                  "How do I cook pasta?", "um, uh"])
def test_turns_about_no_design_topic_find_nothing(retriever: Retriever, turn: str) -> None:
    assert retriever.search(turn) == []


def test_synonyms_meet_across_spellings(retriever: Retriever) -> None:
    for turn in ("our registration flow", "the create-an-account screens", "sign-up form"):
        assert retriever.search(turn)[0].topic.id == "sign-up", turn
    assert retriever.search("colour palette for charts")[0].topic.id in (
        "colour", "data-visualisation")
    assert retriever.words("colour") == retriever.words("color")


def test_earlier_turns_help_a_vague_one(retriever: Retriever) -> None:
    vague = "what about the second step?"
    assert retriever.search(vague) == [] or retriever.search(vague)[0].topic.id != "checkout"
    found = retriever.search(vague, ["Our checkout asks for shipping before the cart total."])
    assert found and found[0].topic.id == "checkout"


def test_critique_the_mode_word_is_not_the_topic(retriever: Retriever) -> None:
    found = retriever.search("Critique this: a pricing page with four tiers and a toggle.")
    assert found[0].topic.id == "pricing-pages"
