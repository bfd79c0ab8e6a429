"""Incremental sentence segmentation of streamed model text, for speaking as it arrives.

`SentenceSplitter.feed` takes text as the model produces it and returns each sentence
the moment its last token is in, already stripped of Markdown. Abbreviations ("e.g."),
decimals ("3.5") and numbered list markers do not end sentences; a newline does; very long
run-ons are split at a clause boundary so the phone can start speaking early.

Written by hand rather than with a sentence tokenizer (pysbd, nltk punkt) because those
segment finished text: they cannot say "this '.' already ends a sentence" mid-stream, and
that decision is the whole point here.
"""

from __future__ import annotations

import re

from parley.conversation.speakable import speakable

_TERMINATORS = ".!?\u2026"
_CLOSERS = "\"')]}\u201d\u2019*_"
# Words that take a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    {
        "e.g", "i.e", "vs", "etc", "mr", "mrs", "ms", "dr", "prof", "jr", "sr", "approx",
        "incl", "fig", "cf", "al", "inc", "ltd", "dept", "a.m", "p.m", "eg", "ie",
    }
)
# Abbreviations that often do end a sentence: they do when a capital letter follows.
_MAY_END = frozenset({"etc", "inc", "ltd", "al"})
# Where a long run-on may be split: after , ; : or around a dash, before a space.
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s[\u2014\u2013-](?=\s)|[\u2014\u2013](?=\s)")
_MIN_CLAUSE = 24


class SentenceSplitter:
    """Feeds on streamed text, returns finished speakable sentences."""

    def __init__(self, *, first_max: int = 110, max_chars: int = 220, hard_max: int = 320) -> None:
        self._buf = ""
        self._scan = 0
        self._line_start = True
        self._in_code = False
        self._emitted = 0
        self._first_max = first_max
        self._max_chars = max_chars
        self._hard_max = max(hard_max, max_chars)

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the sentences it completed."""
        self._buf += text
        out: list[str] = []
        while True:
            boundary = self._find_boundary()
            cut = boundary
            if boundary is None or boundary > self._limit():
                # Too long to wait for (or to speak in one breath): split at a clause.
                cut = self._find_long_split(boundary) or boundary
            if cut is None:
                return out
            self._emit(cut, out)

    def flush(self) -> list[str]:
        """The stream ended: return whatever is left as a last sentence."""
        out: list[str] = []
        if self._buf and not self._in_code:
            self._emit(len(self._buf), out)
        self._buf = ""
        self._scan = 0
        return out

    # -- internals -------------------------------------------------------------------------

    def _emit(self, cut: int, out: list[str]) -> None:
        segment = self._buf[:cut]
        rest = self._buf[cut:]
        ended_line = rest.startswith("\n")
        if ended_line:
            rest = rest[1:]
        self._buf = rest
        self._scan = 0
        fence = segment.strip().startswith("```")
        was_line_start = self._line_start
        self._line_start = ended_line
        if fence and was_line_start:
            self._in_code = not self._in_code
            return
        if self._in_code:
            return
        spoken = speakable(segment.lstrip(_CLOSERS + _TERMINATORS + " \t\r"))
        if spoken:
            out.append(spoken)
            self._emitted += 1

    def _find_boundary(self) -> int | None:
        """Index just past a sentence end in the buffer, or None if none is certain yet."""
        buf = self._buf
        n = len(buf)
        i = self._scan
        while i < n:
            c = buf[i]
            if c == "\n":
                return i
            if self._in_code or c not in _TERMINATORS:
                i += 1
                continue
            j = i
            while j + 1 < n and buf[j + 1] in _TERMINATORS:
                j += 1
            while j + 1 < n and buf[j + 1] in _CLOSERS:
                j += 1
            verdict = self._ends_sentence(i, j)
            if verdict is None:
                self._scan = i
                return None
            if verdict:
                return j + 1
            i = j + 1
        self._scan = n
        return None

    def _ends_sentence(self, i: int, j: int) -> bool | None:
        """Does the terminator run buf[i..j] end a sentence? None: cannot tell yet."""
        buf = self._buf
        following = buf[j + 1 : j + 3]
        if following and not following[0].isspace():
            return False  # "3.5", "figma.com", "?!" inside a word
        if buf[i:j + 1].strip(_CLOSERS) != ".":
            return True  # "!", "?", "...", "?!": always an end
        start = i
        while start > 0 and (buf[start - 1].isalnum() or buf[start - 1] == "."):
            start -= 1
        word = buf[start:i]
        if not word:
            return True
        lower = word.lower()
        if word.isdigit():
            if not following:
                return None  # "3." may become "3.5"
            list_marker = self._line_start and not buf[:start].strip()
            return not list_marker
        if len(word) == 1 and word.isalpha() and word != "I":
            # "e." may be the start of "e.g."; "J." is an initial.
            if not following:
                return None
            return word.islower()
        if lower in _ABBREVIATIONS or "." in word:
            if lower not in _MAY_END:
                return None if not following else False
            next_word = buf[j + 1 :].lstrip()
            if not next_word:
                return None
            return next_word[0].isupper()
        return True

    def _limit(self) -> int:
        return self._first_max if self._emitted == 0 else self._max_chars

    def _find_long_split(self, end: int | None = None) -> int | None:
        """A clause boundary to split a sentence that is getting too long to wait for.

        Only text before `end` (a sentence end already found) is considered.
        """
        if self._in_code:
            return None
        limit = self._limit()
        buf = self._buf[:end] if end is not None else self._buf
        if len(buf) <= limit:
            return None
        # The last clause break within the limit, else the first one past it.
        best = None
        for match in _CLAUSE_BREAK.finditer(buf, _MIN_CLAUSE, len(buf)):
            cut = match.end()
            head = buf[:cut]
            if head.count("[") != head.count("]") or head.count("(") != head.count(")"):
                continue  # never split inside a Markdown link
            if cut > limit and best is not None:
                break
            best = cut
            if cut > limit:
                break
        if best is not None:
            return best
        if len(buf) <= self._hard_max:
            return None
        space = buf.rfind(" ", _MIN_CLAUSE, self._hard_max)
        return space if space > 0 else self._hard_max
