"""What two brief sentences have in common: their content words, stemmed."""

from __future__ import annotations

from functools import cache

import snowballstemmer  # type: ignore[import-untyped]  # ships no type information

from parley.knowledge.words import STOPWORDS, WORD, english_stemmer


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return english_stemmer()


def stems(text: str, *, ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """The stemmed content words of `text` (stop words and `ignore` left out)."""
    words = [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in ignore]
    return frozenset(_stemmer().stemWords(words))


def normal(text: str) -> str:
    """A sentence compared as written: case, spacing and end punctuation aside."""
    return " ".join(text.casefold().split()).rstrip(".!?\u2026 ")
