"""The offline evaluation, as a test: 90 designer prompts answered from the notes.

`make bench` prints the same figures beside the bare model's (bench/offline_eval.py).
"""

from __future__ import annotations

import pytest

from parley.knowledge.compose import Composer
from parley.knowledge.library import load_library
from parley.knowledge.retrieval import Retriever
from tests.knowledge.rubric import problems, prompts


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer(Retriever(load_library()))


def test_at_least_ninety_percent_of_answers_pass_the_rubric(composer: Composer) -> None:
    library = composer.retriever.library
    failures = []
    cases = prompts()
    for case in cases:
        answer = composer.reply(case.prompt, case.mode).text
        wrong = problems(answer, case, topic_lines=library.topic(case.topic).lines(),
                         words=composer.retriever.words)
        if wrong:
            failures.append((case.prompt[:60], wrong))
    assert len(cases) == 90
    assert (len(cases) - len(failures)) / len(cases) >= 0.9, failures


def test_the_two_prompts_from_the_issue_get_relevant_answers(composer: Composer) -> None:
    settings = composer.reply("How do I make a settings page less overwhelming?", "sparring")
    onboarding = composer.reply(
        "Our onboarding has seven steps before people see anything. Where would you start?",
        "sparring",
    )
    assert "settings" in settings.text.lower()
    assert "onboarding" in onboarding.text.lower() or "value" in onboarding.text.lower()
    for reply in (settings, onboarding):
        assert "furniture" not in reply.text and reply.text.endswith("?")
