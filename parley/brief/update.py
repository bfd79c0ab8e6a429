"""A brief updated from the latest turns, never losing an item the conversation did not retract.

Two ways in: offline, the sentences `extract` found are folded in by rule; with a model, its
structured output is checked against the brief it was given (`accept`), and an answer that
drops an item, or is not the schema, is rejected so the caller can ask once more.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

from pydantic import Field, ValidationError

from parley.brief.conflicts import clashes
from parley.brief.extract import Found, Retraction
from parley.brief.schema import (
    MAX_CONFLICTS,
    MAX_ITEMS,
    SECTIONS,
    TITLE_CHARS,
    Brief,
    Conflict,
    Item,
    ItemText,
    SectionKey,
    Sections,
)
from parley.brief.words import normal, stems
from parley.conversation.persona import brief_update_prompt
from parley.providers.base import Message
from parley.text import CleanText

# Sections a spoken retraction can take something out of ("scrap the carousel").
_RETRACTABLE: tuple[SectionKey, ...] = ("ideas", "decisions", "nextSteps", "openQuestions")
_RETRACT_WORDS = frozenset(
    "scrap scratch forget ditch drop kill abandon nix bin never mind changed mind second "
    "thought doing take back longer let's".split()
)
TITLE_WORDS = 8


class Rejected(Exception):
    """A model's update that can't be used; the reason is for the log, never the person."""


class Proposal(Brief):
    """A model's answer: the whole brief, and the texts of items the conversation took back.

    Every field is required, as the strict schema says: an answer missing one is not a brief.
    """

    title: Annotated[CleanText, Field(max_length=TITLE_CHARS)]
    sections: Sections
    conflicts: Annotated[list[Conflict], Field(max_length=MAX_CONFLICTS)]
    retracted: Annotated[list[ItemText], Field(max_length=MAX_ITEMS)]


def fold(brief: Brief, said: Sequence[Found | Retraction], *, topic: str | None = None) -> Brief:
    """`brief` with what was said folded in, in order: items added, retractions applied."""
    sections = {key: list(brief.sections.get(key)) for key in SECTIONS}
    conflicts = list(brief.conflicts)
    for event in said:
        if isinstance(event, Retraction):
            _retract(sections, event)
            continue
        for conflict in clashes(sections["decisions"], [event]):
            if len(conflicts) < MAX_CONFLICTS and conflict not in conflicts:
                conflicts.append(conflict)
        items = sections[event.section]
        if len(items) < MAX_ITEMS and not _known(items, event.text):
            items.append(Item(text=event.text, turn=event.turn))
    title = brief.title or _title(sections, topic)
    return Brief(title=title, sections=Sections.model_validate(sections), conflicts=conflicts)


def _known(items: Sequence[Item], text: str) -> bool:
    said = normal(text)
    return any(normal(item.text) == said for item in items)


def _retract(sections: dict[SectionKey, list[Item]], retraction: Retraction) -> None:
    """Take out the earlier item the retraction names (most words in common, latest first)."""
    named = stems(retraction.text, ignore=_RETRACT_WORDS)
    best: tuple[int, SectionKey, int] | None = None
    for key in _RETRACTABLE:
        for index, item in enumerate(sections[key]):
            if item.turn is not None and item.turn > retraction.turn:
                continue
            shared = len(named & stems(item.text))
            if shared and (best is None or shared >= best[0]):
                best = (shared, key, index)
    if best is not None:
        del sections[best[1]][best[2]]


def _title(sections: dict[SectionKey, list[Item]], topic: str | None) -> str:
    for key in ("problem", "decisions", "ideas"):
        if sections[key]:
            words = sections[key][0].text.rstrip(".!?\u2026").split()
            short = " ".join(words[:TITLE_WORDS])
            return short + ("\u2026" if len(words) > TITLE_WORDS else "")
    return topic or ""


def accept(old: Brief, answer: str, turns: int) -> Brief:
    """The model's update, if it is the schema and keeps every item it did not retract."""
    try:
        proposal = Proposal.model_validate_json(answer)
    except ValidationError as exc:
        kind = "not JSON" if _not_json(answer) else f"{exc.error_count()} schema errors"
        raise Rejected(f"the update was {kind}") from None
    kept = {normal(item.text) for _, item in proposal.sections.all()}
    retracted = [normal(text) for text in proposal.retracted]
    earlier: dict[str, Item] = {}
    for key, item in old.sections.all():
        said = normal(item.text)
        earlier[said] = item
        if said not in kept and not any(r and (r in said or said in r) for r in retracted):
            raise Rejected(f"the update dropped an item from {key}")
    # An item the brief had keeps its link (turn and conversation), however the model wrote it.
    sections = {
        key: [
            earlier[normal(item.text)].model_copy(update={"text": item.text})
            if normal(item.text) in earlier
            else Item(text=item.text, turn=_within(item.turn, turns))
            for item in proposal.sections.get(key)
        ]
        for key in SECTIONS
    }
    # A conflict the brief had keeps its links, however the model wrote it.
    known = {(normal(c.decision), c.turn): c for c in old.conflicts}
    conflicts = [
        known.get((normal(c.decision), c.turn)) or Conflict(
            decision=c.decision, note=c.note, turn=_within(c.turn, turns),
            decision_turn=_within(c.decision_turn, turns),
        )
        for c in proposal.conflicts
    ]
    return Brief(
        title=proposal.title or old.title,
        sections=Sections.model_validate(sections),
        conflicts=conflicts,
    )


def _not_json(answer: str) -> bool:
    try:
        json.loads(answer)
    except ValueError:
        return True
    return False


def _within(turn: int | None, turns: int) -> int | None:
    # A model may number a turn that is not there; an item then links to no turn.
    return turn if turn is not None and turn < turns else None


def update_messages(
    brief: Brief, turns: Sequence[tuple[str, str]], since: int, *, budget_chars: int
) -> tuple[Message, ...]:
    """The model's instructions, the brief so far and the numbered conversation.

    Earlier turns are left out first when the conversation is longer than `budget_chars`;
    the new ones always go.
    """
    lines = [
        f"[{index}] {'Designer' if role == 'user' else 'Partner'}: {text}"
        for index, (role, text) in enumerate(turns)
    ]
    new = lines[since:]
    room = budget_chars - sum(map(len, new))
    old: list[str] = []
    for line in reversed(lines[:since]):
        room -= len(line)
        if room < 0:
            break
        old.insert(0, line)
    conversation = "\n".join([*old, *new])
    current = json.dumps(brief.wire(), ensure_ascii=False)
    ask = (
        f"The brief so far:\n{current}\n\nThe conversation (turns from [{since}] on are new):\n"
        f"{conversation}\n\nReturn the updated brief."
    )
    return Message("system", brief_update_prompt()), Message("user", ask)
