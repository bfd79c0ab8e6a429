"""A grounded reply, built from Parley's design notes: what the offline partner says.

Sparring: one insight that fits what they said, then one question back. Critique: what works,
the biggest risk, one change to try. Brainstorm: five to eight distinct ideas, then an offer to
go deeper. Lines already said in this conversation are not said again. When nothing in the
notes is about the turn, Parley says so and asks what they are designing, rather than invent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley.knowledge.library import Topic

if TYPE_CHECKING:
    # The retrieval packages (rank-bm25, snowballstemmer) load with the notes, not with
    # the app: a server without the offline extras never imports them.
    from parley.knowledge.retrieval import Match, Retriever

BRAINSTORM_IDEAS = 6
NO_MATCH = ("I don't have notes on that, so I won't guess. "
            "What are you designing, and who is it for?")
NOTHING_SAID = "I didn't catch a design question there. What are you working on?"
NOT_ENGLISH = ("Offline, I can only follow English. Could you say that in English? "
               "With an API key I can answer in other languages too.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_ASCII_WORD = re.compile(r"[A-Za-z']+")
# Common English words: a turn with letters but none of these is not English.
_ENGLISH = frozenset(
    "the a an and or but is are was were be to of in on for with it this that i we you they "
    "my our your how what why where when which who do does can could should would will "
    "not no yes so if about from have has had at as".split()
)


@dataclass(frozen=True, slots=True)
class Grounded:
    """A reply from the notes: its sentences, and the topic they came from (if any)."""

    sentences: tuple[str, ...]
    topic: Topic | None

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def in_latin_script(text: str) -> bool:
    """Whether a turn's letters are (nearly all) the Latin alphabet English is written in."""
    letters = _LETTERS.findall(text)
    return not letters or sum(1 for ch in letters if ch.isascii()) / len(letters) > 0.8


def has_english_words(text: str) -> bool:
    """Whether a turn uses any of English's most common words."""
    return any(w.lower() in _ENGLISH for w in _ASCII_WORD.findall(text))


class Composer:
    """Builds grounded replies from the retriever's best topic."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def reply(
        self, turn: str, mode: str, *, history: Sequence[str] = (), said: Sequence[str] = ()
    ) -> Grounded:
        """The grounded reply to `turn`. `history` is what the person said before; `said`,
        what Parley said (never repeated)."""
        if not in_latin_script(turn):
            return Grounded(tuple(sentences(NOT_ENGLISH)), None)
        if not self.retriever.words(turn):  # "um, uh..."
            return Grounded(tuple(sentences(NOTHING_SAID)), None)
        if not has_english_words(turn):
            return Grounded(tuple(sentences(NOT_ENGLISH)), None)
        matches = self.retriever.search(turn, history)
        if not matches:
            return Grounded(tuple(sentences(NO_MATCH)), None)
        topic = matches[0].topic
        spoken = " ".join(said)
        if mode == "critique":
            parts = self._critique(turn, topic, spoken)
        elif mode == "brainstorm":
            parts = self._brainstorm(turn, matches, spoken)
        else:
            parts = self._sparring(turn, topic, spoken)
        return Grounded(tuple(parts), topic)

    def _sparring(self, turn: str, topic: Topic, spoken: str) -> list[str]:
        insight = self._best(turn, topic.insights, spoken)
        question = self._best(turn, topic.questions, spoken)
        return [*sentences(insight), question]

    def _critique(self, turn: str, topic: Topic, spoken: str) -> list[str]:
        works = self._best(turn, topic.strengths, spoken, prefer_short=True)
        risk = self._best(turn, topic.risks, spoken, prefer_short=True)
        change = self._best(turn, topic.changes, spoken, prefer_short=True)
        if not risk.lower().startswith("the biggest risk"):
            risk = f"The biggest risk: {_lower_first(risk)}"
        return [f"What works: {_lower_first(works)}", risk,
                f"One change to try: {_lower_first(change)}"]

    def _brainstorm(self, turn: str, matches: Sequence[Match], spoken: str) -> list[str]:
        first = matches[0].topic
        ideas = self._ranked(turn, first.ideas, spoken)[:BRAINSTORM_IDEAS]
        # A close second topic adds range (onboarding ideas for an onboarding-email turn).
        if len(matches) > 1 and matches[1].score >= matches[0].score * 0.6:
            extra = self._ranked(turn, matches[1].topic.ideas, spoken)[:2]
            ideas = ideas[:BRAINSTORM_IDEAS - len(extra)] + extra
        return [*ideas, "Want me to go deeper on one of these?"]

    def _best(
        self, turn: str, lines: Sequence[str], spoken: str, *, prefer_short: bool = False
    ) -> str:
        ranked = self._ranked(turn, lines, spoken, prefer_short=prefer_short)
        return ranked[0] if ranked else lines[0]

    def _ranked(
        self, turn: str, lines: Sequence[str], spoken: str, *, prefer_short: bool = False
    ) -> list[str]:
        """Lines not yet said, the ones sharing most words with the turn first."""
        wanted = set(self.retriever.words(turn))
        fresh = [line for line in lines if line not in spoken] or list(lines)

        def rank(item: tuple[int, str]) -> tuple[int, int, int]:
            index, line = item
            overlap = len(wanted & set(self.retriever.words(line)))
            long = len(sentences(line)) > 1 if prefer_short else False
            return (-overlap, int(long), index)

        return [line for _, line in sorted(enumerate(fresh), key=rank)]


def _lower_first(text: str) -> str:
    """`Putting ...` -> `putting ...`, leaving `I`, names and acronyms (`WCAG`) alone."""
    first = text.split(" ", 1)[0]
    if first == "I" or (len(first) > 1 and first[1].isupper()):
        return text
    return text[:1].lower() + text[1:]
