"""What the brief still lacks, so the next question can aim at it.

The persona is told the one biggest gap and any fresh conflict; it still answers what was
asked first, and asks about the gap only when it fits (docs/product.md: one question at most).
"""

from __future__ import annotations

import re

from parley.brief.schema import Brief, Conflict

# A success measure: how they will know it worked.
_MEASURE = re.compile(
    r"\b(?:measur\w*|metric\w*|success|kpi\w*|conversion|completion|retention|rate|percent"
    r"|%|time to|nps|satisfaction|churn|goal|target|benchmark)\b",
    re.IGNORECASE,
)
# An open question this many turns old (both speakers count) has waited three of theirs.
_WAITED = 6
# Gaps are for a conversation under way: not on the first turn or two.
_TOO_EARLY = 2
_SUMMARY_CHARS = 700


def biggest_gap(brief: Brief, turns: int) -> str | None:
    """The one thing most worth asking about next, or None."""
    sections = brief.sections
    if turns < _TOO_EARLY or not sections.all():
        return None
    if not sections.problem:
        return "what problem this solves and for whom it goes wrong today"
    if not sections.audience:
        return "who exactly this is for"
    waiting = [
        q for q in sections.open_questions
        if q.conversation_id is not None or (q.turn is not None and turns - q.turn >= _WAITED)
    ]
    if waiting:
        return f"the question still open since earlier: \u201c{waiting[0].text}\u201d"
    if not any(_MEASURE.search(item.text) for _, item in sections.all()):
        return "how they will know it worked (a success measure)"
    return None


def fresh_conflict(brief: Brief, turns: int) -> Conflict | None:
    """A conflict raised by the person's latest turn, not yet mentioned in a reply."""
    for conflict in reversed(brief.conflicts):
        here = conflict.conversation_id is None
        if here and conflict.turn is not None and conflict.turn >= turns - 2:
            return conflict
    return None


def _summary(brief: Brief) -> str:
    parts: list[str] = []
    for key, items in (
        ("Problem", brief.sections.problem), ("Audience", brief.sections.audience),
        ("Constraints", brief.sections.constraints), ("Decisions", brief.sections.decisions),
        ("Open questions", brief.sections.open_questions),
    ):
        if items:
            parts.append(f"{key}: " + "; ".join(_short(i.text) for i in items[-3:]))
    text = ". ".join(parts)
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "\u2026"


def _short(text: str) -> str:
    return text.rstrip(".!?\u2026")


def brief_context(brief: Brief | None, turns: int) -> str | None:
    """What the persona is told about the brief for the next reply, or None."""
    if brief is None or not brief.sections.all():
        return None
    lines = [f"The design brief so far. {_summary(brief)}."]
    conflict = fresh_conflict(brief, turns)
    if conflict is not None:
        lines.append(
            f"What they just said goes against a decision they made earlier "
            f"(\u201c{_short(conflict.decision)}\u201d). Say so in one short sentence and "
            "ask which one stands."
        )
    gap = biggest_gap(brief, turns)
    if gap is not None and conflict is None:
        lines.append(
            f"The brief's biggest gap is {gap}. Answer what they asked first; then, only if it "
            "fits, your one question can be about that gap."
        )
    return "\n".join(lines)


def heads_up(brief: Brief | None, turns: int) -> str | None:
    """The sentence an offline reply opens with when the latest turn clashed with a decision."""
    conflict = fresh_conflict(brief, turns) if brief is not None else None
    if conflict is None:
        return None
    return (
        f"That goes against what you decided earlier, \u201c{_short(conflict.decision)}\u201d; "
        "I've noted the clash in the brief."
    )
