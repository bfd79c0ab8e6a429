"""Markdown becomes words a speech engine can say."""

from __future__ import annotations

import pytest

from parley.conversation.speakable import speakable


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("**Bold** and *italic* and __under__ and ~~gone~~", "Bold and italic and under and gone"),
        ("## Heading", "Heading"),
        ("- a bullet", "a bullet"),
        ("  3) third", "third"),
        ("Read [the guide](https://example.com/guide?x=1) first.", "Read the guide first."),
        ("See https://www.nngroup.com/articles/ten-usability-heuristics/.", "See nngroup.com."),
        ("![a chart](chart.png)", "a chart"),
        ("Use `snake_case` names", "Use snake_case names"),
        ("| Screen | Drop-off |", "Screen, Drop-off"),
        ("|---|---|", ""),
        ("- ", ""),
        ("Line one<br>line two", "Line one line two"),
        ("> quoted", "quoted"),
    ],
)
def test_speakable(markdown: str, spoken: str) -> None:
    assert speakable(markdown) == spoken
