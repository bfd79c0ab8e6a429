"""Offline: a new decision that goes against one already recorded.

"Let's ask for income up front" after "never ask for income before they see value": the two
share what they are about (asking, income) and point opposite ways (one says never; one says
up front where the other says before value comes). Two signs, both needed: the same subject,
and a flipped polarity or order. It misses clashes that need understanding ("keep it free" vs
"add a paywall"); with a key, the model finds those.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.brief.extract import Found
from parley.brief.schema import Conflict, Item
from parley.brief.words import stems

_NEGATIVE = frozenset(
    "never not no don't dont won't wont can't cant cannot avoid without stop skip remove "
    "drop none nothing nobody neither nor shouldn't mustn't".split()
)
_EARLY = frozenset("first front upfront before start beginning early immediately".split())
_LATE = frozenset("later after end last eventually afterwards".split())
_SIGNS = _NEGATIVE | _EARLY | _LATE
# Sharing this many content words makes two decisions about the same thing.
_SHARED = 2


def _words(text: str) -> set[str]:
    return set(text.lower().replace("up front", "upfront").replace(",", " ").split())


def _opposed(earlier: str, later: str) -> bool:
    a, b = _words(earlier), _words(later)
    if bool(a & _NEGATIVE) != bool(b & _NEGATIVE):
        return True
    early_late = (bool(a & _EARLY) and bool(b & _LATE)) or (bool(a & _LATE) and bool(b & _EARLY))
    return early_late


def clashes(decisions: Sequence[Item], found: Sequence[Found]) -> list[Conflict]:
    """The conflicts between recorded decisions and the new decisions in `found`."""
    conflicts: list[Conflict] = []
    for new in found:
        if new.section != "decisions":
            continue
        new_stems = stems(new.text, ignore=_SIGNS)
        for old in decisions:
            # A decision from another of the project's conversations is always earlier.
            here = old.conversation_id is None
            if here and old.turn is not None and old.turn >= new.turn:
                continue
            shared = stems(old.text, ignore=_SIGNS) & new_stems
            if len(shared) >= _SHARED and _opposed(old.text, new.text):
                conflicts.append(
                    Conflict(
                        decision=old.text,
                        decision_turn=old.turn if here else None,
                        turn=new.turn,
                        note=f"\u201c{new.text}\u201d goes against this decision.",
                    )
                )
                break
    return conflicts
