"""Whether a small model's rewording of grounded advice can be spoken, or drifted away.

A 135M-parameter model rephrasing "put the most-changed settings at the top" may come back
with furniture and Amazon Prime. Its text is used only when nearly every content word in it
comes from the person's turn or the notes it was given, it keeps most of the advice's own
words, and it reads as a spoken sentence or two; otherwise the notes themselves are said.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Past these shares the text is about something else, or has lost the advice's point.
MAX_NEW_WORDS = 0.25
MIN_KEPT_WORDS = 0.5
_MARKDOWN = re.compile(r"(^|\n)\s*([#>*\-]|\d+\.)\s|\*\*|`|\[[^\]]*\]\(")
# Signs the model echoed its instructions instead of answering.
_ECHO = ("designer said", "advice:", "rewrite", "as an ai", "language model", "i'm sorry")

Words = Callable[[str], list[str]]


def drift(
    text: str, *, turn: str, advice: str, notes: Sequence[str], words: Words
) -> str | None:
    """Why `text` cannot stand in for `advice` (a short reason), or None when it can."""
    spoken = text.strip()
    if len(spoken.split()) < 5:
        return "too short"
    if len(spoken.split()) > 2 * len(advice.split()) + 10:
        return "too long"
    if not spoken.endswith((".", "!", "?")):
        return "unfinished"
    if _MARKDOWN.search(spoken):
        return "markdown"
    lowered = spoken.lower()
    if any(sign in lowered for sign in _ECHO):
        return "echoed its instructions"
    said = words(spoken)
    if not said:
        return "no content"
    allowed = set(words(turn)) | set(words(advice)) | {w for n in notes for w in words(n)}
    new = [w for w in said if w not in allowed]
    if len(new) / len(said) > MAX_NEW_WORDS:
        return f"drifted ({', '.join(sorted(set(new))[:4])})"
    point = set(words(advice))
    if point and len(point & set(said)) / len(point) < MIN_KEPT_WORDS:
        return "lost the advice"
    return None
