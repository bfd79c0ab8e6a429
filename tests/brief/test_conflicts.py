"""Offline conflicts: the same subject, pointed the other way."""

from __future__ import annotations

from parley.brief.conflicts import clashes
from parley.brief.extract import Found
from parley.brief.schema import Item

NEVER = Item(text="Let's never ask for income before they see any value.", turn=2)


def test_a_flipped_decision_on_the_same_subject_clashes() -> None:
    (conflict,) = clashes([NEVER], [Found("decisions", "Let's ask for income up front.", 6)])
    assert (conflict.decision_turn, conflict.turn) == (2, 6)
    assert conflict.decision == NEVER.text


def test_an_agreeing_or_unrelated_decision_does_not() -> None:
    agreeing = Found("decisions", "We'll never ask for income on the first screen.", 6)
    unrelated = Found("decisions", "Let's use a sample budget up front.", 6)
    assert clashes([NEVER], [agreeing, unrelated]) == []


def test_only_decisions_made_later_clash() -> None:
    earlier = Found("decisions", "Let's ask for income up front.", 1)
    assert clashes([NEVER], [earlier]) == []
    assert clashes([NEVER], [Found("ideas", "Ask for income up front?", 6)]) == []


def test_a_decision_from_an_earlier_conversation_clashes_whatever_its_turn() -> None:
    elsewhere = NEVER.model_copy(update={"turn": 9, "conversation_id": "c-1"})
    (conflict,) = clashes([elsewhere], [Found("decisions", "Let's ask for income up front.", 2)])
    assert (conflict.decision_turn, conflict.turn) == (None, 2)
