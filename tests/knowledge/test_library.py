"""The design knowledge library: every topic complete, speakable and loaded from the package."""

from __future__ import annotations

import re

import pytest

from parley.knowledge.library import FIELDS, Library, load_library

MINIMUM = {"insights": 4, "questions": 3, "strengths": 3, "risks": 3, "changes": 3, "ideas": 8}
NOT_FOR_THE_EAR = re.compile(r"[*#`_\[\]]|e\.g\.|\(|;")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_at_least_fifty_topics_each_complete(library: Library) -> None:
    assert len(library.topics) >= 50
    assert len({t.id for t in library.topics}) == len(library.topics)
    for topic in library.topics:
        assert topic.title and topic.summary and len(topic.keywords) >= 5, topic.id
        for field, least in MINIMUM.items():
            assert len(getattr(topic, field)) >= least, (topic.id, field)


def test_every_line_is_written_for_the_ear(library: Library) -> None:
    for topic in library.topics:
        for field in FIELDS:
            for line in getattr(topic, field):
                assert line.endswith((".", "?", "!")), (topic.id, line)
                assert not NOT_FOR_THE_EAR.search(line), (topic.id, line)
        assert all(q.endswith("?") for q in topic.questions), topic.id


def test_no_line_is_said_twice(library: Library) -> None:
    lines = [line for topic in library.topics for line in topic.lines()]
    assert len(lines) == len(set(lines))


def test_synonyms_are_lowercase_and_loaded(library: Library) -> None:
    assert len(library.synonyms) >= 60
    for word, variants in library.synonyms.items():
        assert word == word.lower() and all(v == v.lower() for v in variants)
