"""Finding the topics a turn is about: BM25 (rank-bm25) over stemmed words, with synonyms.

Designers say the same thing many ways ("sign-up", "registration", "create an account"):
every phrase in the synonym table is rewritten to its canonical word before stemming, in
the topics and in the turn alike, so they meet. The whole library is a few dozen short
documents: a turn is scored in well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]  # ships no type information

from parley.knowledge.library import Library, Topic
from parley.knowledge.words import STOPWORDS, WORD, english_stemmer

# Below this, nothing in the library is about the turn (tuned on the evaluation prompts: a
# one-word design topic scores over 30, "tell me a joke" 16).
MIN_SCORE = 20.0
# Words that name the kind of answer asked for, not its subject ("critique this sign-up").
MODE_WORDS = frozenset({"critique", "crit", "brainstorm", "feedback", "thoughts", "opinion"})
# How much a match on the topic's own naming (title, keywords) counts against one in the
# rest of its text: what a topic is called is the strongest sign of what it is about.
NAMING_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class Match:
    topic: Topic
    score: float


class Retriever:
    """Scores the library's topics against a turn."""

    def __init__(self, library: Library, *, min_score: float = MIN_SCORE) -> None:
        self.library = library
        self.min_score = min_score
        self._stemmer = english_stemmer()
        self._phrases = self._phrase_pattern(library)
        self._naming = BM25Okapi([self._naming_words(topic) for topic in library.topics])
        self._body = BM25Okapi([self.words(" ".join(t.lines())) for t in library.topics])

    def words(self, text: str) -> list[str]:
        """Text as stemmed content words, synonyms made canonical."""
        lowered = self._phrases.sub(lambda m: f" {self._canonical[m.group(0)]} ", text.lower())
        words = [w.split("'")[0] for w in WORD.findall(lowered)]
        # Canonical words stay whole: "settings" stemmed is "set", as in "set up".
        return [w if w in self._words else self._stemmer.stemWord(w)
                for w in words if w not in STOPWORDS]

    def search(self, turn: str, history: Sequence[str] = (), limit: int = 3) -> list[Match]:
        """The best topics for a turn (and, weighing less, what was said before it)."""
        query = [w for w in self.words(turn) if w not in MODE_WORDS] * 2
        for earlier in history[-2:]:
            query += [w for w in self.words(earlier) if w not in MODE_WORDS]
        if not query:
            return []
        scores = NAMING_WEIGHT * self._naming.get_scores(query) + self._body.get_scores(query)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:limit]
        return [Match(self.library.topics[i], float(scores[i])) for i in ranked
                if scores[i] >= self.min_score]

    def _naming_words(self, topic: Topic) -> list[str]:
        return self.words(topic.title) + self.words(" ".join(topic.keywords))

    @cached_property
    def _canonical(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for word, variants in self.library.synonyms.items():
            for variant in (word, *variants):
                table.setdefault(variant.lower(), word)
        return table

    @cached_property
    def _words(self) -> frozenset[str]:
        return frozenset(self.library.synonyms)

    def _phrase_pattern(self, library: Library) -> re.Pattern[str]:
        variants: Iterable[str] = sorted(self._canonical, key=len, reverse=True)
        alternatives = "|".join(re.escape(v) for v in variants)
        return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")
