"""Turning a piece of model Markdown into plain words for a speech engine."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)(]|\([^)]*\))*\)")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]")
_LINE_PREFIX = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?:#{1,6}[ \t]+|(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+)?", re.MULTILINE
)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}.*$", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,40}>")
_EMPHASIS = re.compile(r"\*+|~~|`+|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_HAS_WORD = re.compile(r"[^\W_]")


def _spoken_url(match: re.Match[str]) -> str:
    url = match.group(0)
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or url
    return host.removeprefix("www.")


def speakable(markdown: str) -> str:
    """Plain text to speak: no Markdown marks, links read by their words, URLs by their site.

    Returns "" when nothing is left worth saying (a lone bullet, a table rule).
    """
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(_spoken_url, text)
    text = _TABLE_RULE.sub("", text)
    text = _LINE_PREFIX.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("|", ", ")
    text = _SPACE.sub(" ", text).strip()
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = text.strip(" ,;")
    return text if _HAS_WORD.search(text) else ""
