"""The offline brief against the independently written set: the issue's goals hold."""

from __future__ import annotations

from bench.brief_eval import GRADED, PRECISION_GOAL, RECALL_GOAL, load, offline, score


def test_offline_rules_meet_the_goals_on_the_scripted_conversations() -> None:
    result = score(load(), offline)
    assert result.recall(GRADED) >= RECALL_GOAL, result.misses
    assert result.precision >= PRECISION_GOAL, result.extras
    assert result.retracted_gone == result.retracted
    assert result.conflicts_false == 0
