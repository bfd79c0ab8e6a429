"""The words of a turn: stop words and the English stemmer (snowballstemmer, pure Python).

Kept apart from retrieval so the brief can compare sentences without loading BM25 (and its
numpy), which a serverless bundle does not ship.
"""

from __future__ import annotations

import re

import snowballstemmer  # type: ignore[import-untyped]  # ships no type information

# Words that say nothing about the topic of a design question.
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't
doing don't down during each few for from further get gets got had hadn't has hasn't have
haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in into is
isn't it it's its itself just let's like me more most much my myself no nor not now of off
on once only or other ought our ours ourselves out over own really right same she should
shouldn't so some such than that that's the their theirs them themselves then there there's
these they they're this those through to too um uh under until up us very was wasn't we we'd
we'll we're we've were weren't what what's when where which while who whom why will with
won't would wouldn't yeah you you'd you'll you're you've your yours yourself yourselves
okay ok kind sort thing things stuff think thinking want wanted wondering basically actually
also still even maybe way make making lot lots something anything everything one ones new
people user users app apps screen screens page pages flow flows design designing designer
product feature features help need needs good better best idea ideas give start where
less many few bit little big lot feel feels feeling seem seems look looks work works
""".split())
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def english_stemmer() -> snowballstemmer.stemmer:
    """A new stemmer: one keeps state while it stems, so each user holds its own."""
    return snowballstemmer.stemmer("english")
