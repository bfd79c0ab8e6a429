"""Sentence segmentation for speech: what the phone speaks, and when."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.conversation.sentences import SentenceSplitter


def whole(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()


def pieces(text: str) -> list[str]:
    """Token-like pieces, as BPE tokenizers cut them: " word", ".", ".com", "?!"."""
    return re.findall(r"\s*[\w'\u2019]+|\s*[^\w\s]+\w*|\s+$", text)


def streamed(chunks: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for chunk in chunks:
        out += splitter.feed(chunk)
    return out + splitter.flush()


def test_splits_plain_sentences() -> None:
    text = "Let them see their money first. Could step one be linking an account? Try it!"
    assert whole(text) == [
        "Let them see their money first.",
        "Could step one be linking an account?",
        "Try it!",
    ]


def test_sentence_comes_out_with_its_last_token() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Let them see it") == []
    assert splitter.feed(".") == ["Let them see it."]
    assert splitter.feed(" Could it") == []
    assert splitter.feed("?") == ["Could it?"]
    assert splitter.feed(" Yes") == []
    assert splitter.flush() == ["Yes"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Use e.g. a progress bar. Then test.", ["Use e.g. a progress bar.", "Then test."]),
        ("That is, i.e. the second step.", ["That is, i.e. the second step."]),
        ("It loads in 3.5 seconds. Good.", ["It loads in 3.5 seconds.", "Good."]),
        ("Ask Dr. Smith. She knows.", ["Ask Dr. Smith.", "She knows."]),
        ("Figma vs. Sketch is old news.", ["Figma vs. Sketch is old news."]),
        ("Colors, fonts, etc. Then test it.", ["Colors, fonts, etc.", "Then test it."]),
        ("Colors, fonts, etc. and more.", ["Colors, fonts, etc. and more."]),
        ("We shipped in 2024. Next year too.", ["We shipped in 2024.", "Next year too."]),
        ("Meet at 3 p.m. tomorrow.", ["Meet at 3 p.m. tomorrow."]),
        ("Open figma.com now.", ["Open figma.com now."]),
    ],
)
def test_abbreviations_and_numbers_do_not_split(text: str, expected: list[str]) -> None:
    assert whole(text) == expected
    assert streamed(pieces(text)) == expected


def test_decimal_waits_for_the_next_token() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("It costs 3") == []
    assert splitter.feed(".") == []
    assert splitter.feed("5 dollars.") == ["It costs 3.5 dollars."]


def test_abbreviation_waits_for_the_next_token() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Use e.g.") == []
    assert splitter.feed(" a bar.") == ["Use e.g. a bar."]


def test_markdown_is_stripped() -> None:
    text = (
        "## Problem\n**Bold idea.** Try [the kit](https://example.com/a) or "
        "https://www.figma.com/file/abc today.\n\n- First idea\n* Second `idea`\n"
        "1. Step one.\n2. Step two.\n> Quoted _thing_."
    )
    assert whole(text) == [
        "Problem",
        "Bold idea.",
        "Try the kit or figma.com today.",
        "First idea",
        "Second idea",
        "Step one.",
        "Step two.",
        "Quoted thing.",
    ]


def test_code_blocks_are_not_read_aloud() -> None:
    text = "Here:\n```python\nprint('a.b')\nx = 1. Done\n```\nAfter the code."
    assert whole(text) == ["Here:", "After the code."]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert whole('He said "stop." Then left.') == ['He said "stop."', "Then left."]
    assert streamed(["He said ", '"stop', '!', '"', " Then left."]) == [
        'He said "stop!',
        "Then left.",
    ]


def test_long_run_on_splits_at_a_clause_for_an_early_first_sound() -> None:
    text = (
        "This is a very long run-on sentence that keeps going and going without stopping, "
        "because the model decided to be verbose today, and it keeps adding clauses, "
        "one after another, until someone stops it"
    )
    got = streamed(pieces(text))
    assert got[0] == (
        "This is a very long run-on sentence that keeps going and going without stopping,"
    ).rstrip(",")
    assert len(got) >= 2
    assert _letters(" ".join(got)) == _letters(text)


def test_run_on_without_clauses_is_cut_at_a_space() -> None:
    text = " ".join(["word"] * 120)
    got = whole(text)
    assert len(got) > 1
    assert all(len(sentence) <= 320 for sentence in got)
    assert all(not sentence.startswith(" ") and "wor d" not in sentence for sentence in got)


def _letters(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


_WORDS = st.sampled_from(
    ["design", "flow", "e.g.", "3.5", "users", "Dr.", "onboarding", "etc.", "2024", "idea",
     "screen", "step", "I", "A", "figma.com", "vs."]
)
_ENDS = st.sampled_from([".", "?", "!", ",", ";", "", "...", ":"])
_ENDED = st.sampled_from([".", "?", "!", "..."])


def _sentences(max_words: int, ends: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda words, end: " ".join(words) + end,
        st.lists(_WORDS, min_size=1, max_size=max_words),
        ends,
    )


# Any text, run-ons included.
_TEXT = st.lists(_sentences(30, _ENDS), min_size=1, max_size=8).map(" ".join)
# Sentences short enough never to need a run-on split (which, mid-stream, cannot know
# that the sentence was about to end).
_SHORT_TEXT = st.lists(_sentences(8, _ENDED), min_size=1, max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=40))
def test_nothing_is_lost_or_repeated_whatever_the_chunking(text: str, cuts: list[int]) -> None:
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    chunks = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert _letters("".join(streamed(chunks))) == _letters(text)


@settings(max_examples=300, deadline=None)
@given(text=_SHORT_TEXT)
def test_token_streaming_matches_whole_text(text: str) -> None:
    assert streamed(pieces(text)) == whole(text)


@settings(max_examples=200, deadline=None)
@given(text=_TEXT)
def test_sentences_are_bounded_and_clean(text: str) -> None:
    for sentence in whole(text):
        assert 0 < len(sentence) <= 320
        assert sentence == sentence.strip()
        assert "**" not in sentence and "`" not in sentence
