"""What two brief sentences have in common: their content words, stemmed."""

from __future__ import annotations

import re
from functools import cache

import snowballstemmer  # type: ignore[import-untyped]  # ships no type information

from parley.knowledge.retrieval import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def stems(text: str, *, ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """The stemmed content words of `text` (stop words and `ignore` left out)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and w not in ignore]
    return frozenset(_stemmer().stemWords(words))


def normal(text: str) -> str:
    """A sentence compared as written: case, spacing and end punctuation aside."""
    return " ".join(text.casefold().split()).rstrip(".!?\u2026 ")
