"""Grounded replies: the shape each mode asks for, never repeated, honest when lost."""

from __future__ import annotations

import pytest

from parley.knowledge.compose import NO_MATCH, NOT_ENGLISH, NOTHING_SAID, Composer, sentences
from parley.knowledge.library import load_library
from parley.knowledge.retrieval import Retriever

SETTINGS = "How do I make a settings page less overwhelming?"


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer(Retriever(load_library()))


def test_sparring_is_one_insight_then_one_question(composer: Composer) -> None:
    reply = composer.reply(SETTINGS, "sparring")
    assert reply.topic is not None and reply.topic.id == "settings"
    assert len(reply.sentences) <= 3
    assert reply.sentences[-1].endswith("?") and reply.text.count("?") == 1
    assert " ".join(reply.sentences[:-1]) in reply.topic.insights


def test_critique_has_what_works_the_biggest_risk_and_one_change(composer: Composer) -> None:
    reply = composer.reply("Critique this: a sign-up with five screens and income asked on "
                           "screen two.", "critique")
    assert reply.topic is not None and reply.topic.id == "sign-up"
    works, risk, change = reply.sentences
    assert works.startswith("What works: ")
    assert risk.startswith("The biggest risk")
    assert change.startswith("One change to try: ")


def test_brainstorm_gives_distinct_ideas_then_an_offer(composer: Composer) -> None:
    reply = composer.reply("Brainstorm empty states for a notes app.", "brainstorm")
    ideas = reply.sentences[:-1]
    assert 5 <= len(ideas) <= 8 and len(set(ideas)) == len(ideas)
    assert reply.sentences[-1].endswith("?")


def test_nothing_already_said_is_said_again(composer: Composer) -> None:
    said: list[str] = []
    for _ in range(4):
        reply = composer.reply(SETTINGS, "sparring", said=said)
        assert not any(line in " ".join(said) for line in reply.sentences)
        said.append(reply.text)


@pytest.mark.parametrize(
    ("turn", "expected"),
    [("Tell me a joke", NO_MATCH), ("um, uh...", NOTHING_SAID),
     ("Comment rendre la page de paramètres moins lourde ?", NOT_ENGLISH),
     ("\u8a2d\u5b9a\u753b\u9762\u3092\u30b7\u30f3\u30d7\u30eb\u306b", NOT_ENGLISH)],
)
def test_lost_turns_get_a_short_honest_reply(
    composer: Composer, turn: str, expected: str
) -> None:
    reply = composer.reply(turn, "sparring")
    assert reply.topic is None
    assert reply.sentences == tuple(sentences(expected))
