"""Which spoken sentences become brief items, and in which section."""

from __future__ import annotations

import pytest

from parley.brief.extract import Found, Retraction, classify, cleaned, extract


@pytest.mark.parametrize(
    ("sentence", "section"),
    [
        ("So let's go with a sample budget on the first screen.", "decisions"),
        ("Okay we're going to keep the tab bar.", "decisions"),
        ("No onboarding carousel, that's final.", "decisions"),
        ("We have to ship by March.", "constraints"),
        ("Legal won't let us store bank logins.", "constraints"),
        ("It only works on Android right now.", "constraints"),
        ("I'm not sure whether to show prices up front.", "openQuestions"),
        ("Should the map be the home screen?", "openQuestions"),
        ("What if we showed the next bus on the lock screen?", "ideas"),
        ("Maybe we could let them skip linking the bank.", "ideas"),
        ("I'll test it with five people on Friday.", "nextSteps"),
        ("People drop off at the income step.", "problem"),
        ("It's for first-year students, mostly on their phones.", "audience"),
    ],
)
def test_a_spoken_sentence_lands_in_its_section(sentence: str, section: str) -> None:
    assert classify(sentence) == section


@pytest.mark.parametrize(
    "sentence",
    ["Okay.", "Hmm, that makes sense.", "What do you think about that?", "Yeah, fair enough."],
)
def test_talk_that_is_not_an_item_is_left_out(sentence: str) -> None:
    assert classify(sentence) is None


def test_an_item_reads_without_the_fillers() -> None:
    assert cleaned("So, um, honestly I think let's keep the tab bar.") == "Let's keep the tab bar."


def test_only_the_persons_new_turns_are_read_in_order() -> None:
    turns = [
        ("user", "We have to ship by March."),
        ("assistant", "Let's go with whatever ships."),  # Parley's words never count
        ("user", "Maybe a progress bar would help. Actually, scrap the progress bar."),
    ]
    assert extract(turns, since=1) == [
        Found("ideas", "Maybe a progress bar would help.", 2),
        Retraction("Actually, scrap the progress bar.", 2),
    ]
    assert extract(turns)[0] == Found("constraints", "We have to ship by March.", 0)
