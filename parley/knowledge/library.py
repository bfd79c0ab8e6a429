"""The design knowledge library: plain TOML files in the package, one topic each.

Each topic holds a few sharp insights, questions worth asking back, what usually works, the
common risks, changes to try, and an idea bank. Loaded once (by the app's lifespan), never at
import time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

FIELDS = ("insights", "questions", "strengths", "risks", "changes", "ideas")


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    summary: str
    keywords: tuple[str, ...]
    insights: tuple[str, ...]
    questions: tuple[str, ...]
    strengths: tuple[str, ...]
    risks: tuple[str, ...]
    changes: tuple[str, ...]
    ideas: tuple[str, ...]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Topic:
        return cls(
            id=str(data["id"]), title=str(data["title"]), summary=str(data["summary"]),
            keywords=tuple(map(str, data["keywords"])),
            **{name: tuple(map(str, data[name])) for name in FIELDS},
        )

    def lines(self) -> tuple[str, ...]:
        """Everything the topic says, for retrieval and for judging drift."""
        return (self.summary, *(line for name in FIELDS for line in getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Library:
    topics: tuple[Topic, ...]
    # canonical word -> the words and phrases people use for it
    synonyms: Mapping[str, tuple[str, ...]]

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)


def load_library() -> Library:
    """Every topic and the synonyms, from the installed package."""
    root = files("parley.knowledge")
    topics = []
    for entry in sorted(root.joinpath("topics").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            topics.append(Topic.of(tomllib.loads(entry.read_text("utf-8"))))
    raw = tomllib.loads(root.joinpath("synonyms.toml").read_text("utf-8"))["synonyms"]
    synonyms = {str(word): tuple(map(str, variants)) for word, variants in raw.items()}
    return Library(tuple(topics), synonyms)
