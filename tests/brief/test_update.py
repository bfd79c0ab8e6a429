"""Folding found items in offline, and accepting (or rejecting) a model's update."""

from __future__ import annotations

import json

import pytest

from parley.brief.extract import Found, Retraction
from parley.brief.schema import Brief, Item
from parley.brief.update import Rejected, accept, fold, update_messages

DECIDED = Item(text="Never ask for income first", turn=2)


def brief(**sections: list[Item]) -> Brief:
    return Brief.model_validate(
        {"title": "Budgeting", "sections": {k: [i.model_dump() for i in v]
                                            for k, v in sections.items()}}
    )


def test_fold_adds_in_order_skips_repeats_and_applies_retractions() -> None:
    old = brief(decisions=[DECIDED])
    said: list[Found | Retraction] = [
        Found("ideas", "Maybe a progress bar would help.", 4),
        Found("decisions", "Never ask for income first.", 4),  # already there
        Retraction("Actually, scrap the progress bar.", 4),
        Found("constraints", "We have to ship by March.", 4),
    ]
    new = fold(old, said)
    assert new.sections.ideas == []
    assert new.sections.decisions == [DECIDED]
    assert new.sections.constraints == [Item(text="We have to ship by March.", turn=4)]
    assert new.title == "Budgeting"


def test_fold_names_an_untitled_brief_from_its_problem() -> None:
    new = fold(Brief(), [Found("problem", "People drop off at the income step.", 0)])
    assert new.title == "People drop off at the income step"


def test_fold_notes_a_clash_once() -> None:
    old = brief(decisions=[Item(text="Let's never ask for income before value.", turn=2)])
    said = [Found("decisions", "Let's ask for income up front.", 4)]
    once = fold(old, said)
    assert len(once.conflicts) == 1
    assert fold(once, said).conflicts == once.conflicts


def answer(new: Brief, retracted: list[str] | None = None) -> str:
    return json.dumps({**new.wire(), "retracted": retracted or []})


def test_accept_keeps_the_old_turn_of_an_item_the_model_renumbered() -> None:
    old = brief(decisions=[DECIDED])
    moved = brief(decisions=[Item(text="never ask for income first.", turn=0)])
    assert accept(old, answer(moved), 6).sections.decisions[0].turn == 2


def test_accept_rejects_an_answer_that_drops_an_item() -> None:
    old = brief(decisions=[DECIDED], ideas=[Item(text="A progress bar", turn=3)])
    with pytest.raises(Rejected, match="dropped an item from ideas"):
        accept(old, answer(brief(decisions=[DECIDED])), 6)
    kept = accept(old, answer(brief(decisions=[DECIDED]), ["a progress bar"]), 6)
    assert kept.sections.ideas == []


@pytest.mark.parametrize("junk", ["", "Here you go!", '{"title": "x"', '{"title": "x"}'])
def test_accept_rejects_what_is_not_the_schema(junk: str) -> None:
    with pytest.raises(Rejected):
        accept(Brief(), junk, 4)


def test_the_model_sees_numbered_turns_and_which_are_new() -> None:
    turns = [("user", "a" * 50), ("assistant", "b" * 50), ("user", "Let's ship.")]
    system, ask = update_messages(brief(decisions=[DECIDED]), turns, 2, budget_chars=60)
    assert "Copy every item" in system.content
    assert "[2] Designer: Let's ship." in ask.content and "turns from [2] on are new" in ask.content
    assert "[0]" not in ask.content  # over the budget, earlier turns go first
    assert "Never ask for income first" in ask.content


def test_an_item_from_an_earlier_conversation_keeps_its_link() -> None:
    linked = Item.model_validate({"text": "Never ask for income first", "turn": 2,
                                  "conversationId": "c-1"})
    old = brief(decisions=[linked])
    echoed = brief(decisions=[Item(text="Never ask for income first", turn=5)])
    (kept,) = accept(old, answer(echoed), 8).sections.decisions
    assert kept == linked
    assert fold(old, []).wire()["sections"]["decisions"] == [
        {"text": "Never ask for income first", "turn": 2, "conversationId": "c-1"}]


def test_accept_keeps_the_link_of_a_conflict_the_brief_had() -> None:
    from parley.brief.schema import Conflict

    linked = Conflict(decision="Never ask", turn=4, decision_turn=2, conversation_id="c-1")
    old = brief(decisions=[DECIDED]).model_copy(update={"conflicts": [linked]})
    echoed = json.dumps({**old.wire(), "conflicts": [
        {"decision": "Never ask", "turn": 4, "decisionTurn": 2, "note": ""}], "retracted": []})
    assert accept(old, echoed, 8).conflicts == [linked]
