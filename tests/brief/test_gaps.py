"""The brief's biggest gap, and the clash the next reply mentions."""

from __future__ import annotations

from parley.brief.gaps import biggest_gap, brief_context, heads_up
from parley.brief.schema import Brief, Conflict, Item


def brief(**sections: list[Item]) -> Brief:
    return Brief.model_validate(
        {"sections": {k: [i.model_dump() for i in v] for k, v in sections.items()}}
    )


PROBLEM = Item(text="People drop off at income", turn=0)
AUDIENCE = Item(text="First-year students", turn=0)


def test_gaps_come_in_order_and_not_too_early() -> None:
    assert biggest_gap(brief(problem=[PROBLEM]), 1) is None
    assert biggest_gap(Brief(), 8) is None
    assert biggest_gap(brief(ideas=[Item(text="A chart")]), 4) is not None
    assert "who exactly" in (biggest_gap(brief(problem=[PROBLEM]), 4) or "")
    waiting = Item(text="Show a sample budget first?", turn=2)
    both = brief(problem=[PROBLEM], audience=[AUDIENCE], open_questions=[waiting])
    assert biggest_gap(both, 6) is not None and "sample budget" not in (biggest_gap(both, 6) or "")
    assert "sample budget" in (biggest_gap(both, 8) or "")
    measured = brief(problem=[PROBLEM], audience=[AUDIENCE],
                     decisions=[Item(text="Success is completion rate over 70%")])
    assert biggest_gap(measured, 8) is None


def test_a_fresh_conflict_is_mentioned_once() -> None:
    clash = Conflict(decision="Never ask for income first.", decision_turn=2, turn=6)
    clashed = brief(problem=[PROBLEM]).model_copy(update={"conflicts": [clash]})
    context = brief_context(clashed, 8) or ""
    assert "Never ask for income first" in context and "which one stands" in context
    assert "Never ask for income first" in (heads_up(clashed, 8) or "")
    assert heads_up(clashed, 10) is None  # the reply after it already said so
    assert "which one stands" not in (brief_context(clashed, 10) or "")


def test_a_clash_from_another_conversation_is_not_fresh() -> None:
    elsewhere = Conflict(decision="Never ask for income first.", turn=0, conversation_id="c-1")
    clashed = brief(problem=[PROBLEM]).model_copy(update={"conflicts": [elsewhere]})
    assert heads_up(clashed, 2) is None
