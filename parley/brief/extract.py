"""Offline: the sentences of a spoken turn that state a brief item, found by how they are said.

Designers speaking out loud mark what they mean: "let's go with" decides, "has to" constrains,
"I'm not sure whether" leaves a question open, "what if" offers an idea, "I'll test it on
Friday" is a next step. These cues are read sentence by sentence from what the person said
(never from Parley's replies). The bundled 135M-parameter model was tried for this under a
JSON grammar and labelled 1 of 8 sentences right (docs/performance.md), so offline the brief is
found by these rules; with a key, a large model does the same job with structured outputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from parley.brief.schema import ITEM_CHARS, SectionKey

# Sentence ends: . ! ? and the ellipsis, followed by a space; speech engines rarely write more.
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])\s+")
# Spoken fillers in front of what is meant ("so, um, honestly I think let's ..."): removed
# from the item's text, and from the start of the sentence before the cues are read.
_FILLER = re.compile(
    r"^(?:(?:so|okay|ok|alright|all right|right|um+|uh+|er+|hmm+|well|yeah|yes|no|and|but|"
    r"honestly|basically|anyway|look|like|i mean|you know|i think|i guess|i feel like|"
    r"to be honest|thinking out loud|oh|cool|great|sure|fine|also|then|now|actually|hm)"
    r"\b[\s,.\u2014-]*)+",
    re.IGNORECASE,
)

# Each section's cues, as regular expressions on the lower-cased sentence.
_RETRACT = re.compile(
    r"\b(?:scrap|scratch|forget|ditch|drop|kill|abandon|nix|bin) (?:that|the|this|it|my|our)\b"
    r"|\bnever ?mind\b|\bchanged my mind\b|\bon second thought\b|\bwe'?re not doing\b"
    r"|\b(?:let'?s|we'?ll) not (?:do|go with|use)\b|\btake (?:that|it) back\b"
    r"|\bno longer\b"
)
_QUESTION = re.compile(
    r"\b(?:not sure (?:whether|if|how|what|when|who|about)|(?:i|we) don'?t know (?:whether|if|"
    r"how|what|when|who|yet)|i wonder|wondering (?:whether|if|how)|no idea (?:whether|if|how)"
    r"|open question|still unclear|unclear (?:whether|if|how)|(?:need|have) to figure out"
    r"|the question is|haven'?t decided|undecided|torn between)\b"
)
_DECISION = re.compile(
    r"\b(?:let'?s (?!see\b|think\b|talk\b|say\b|try to think\b|look at\b|figure\b|step back\b|"
    r"start with what\b)|we'?re (?:going|gonna) (?:to |with )|we'?ll (?!need\b|have\b|see\b|"
    r"probably\b|maybe\b)|we will (?!need\b|have\b)|we (?:have )?decided|(?:i|we)'?ve decided"
    r"|decision is|decided to|decided on|going with|we go with|we keep|we'?re keeping"
    r"|that'?s final|final answer|we settled|settled on|we agreed|agreed to|the plan is"
    r"|we'?re doing|we won'?t|we'?re not going to|we'?ll never|we never|definitely (?:going|"
    r"keeping|doing|using)|i'?m going (?:to go )?with|locking in|we'?re sticking with"
    r"|sticking with)\b"
)
_CONSTRAINT = re.compile(
    r"\b(?:has to|have to|had to|must|mustn'?t|can'?t|cannot|can not|not allowed|won'?t let us"
    r"|doesn'?t let us|isn'?t allowed|legal|compliance|regulat\w*|gdpr|hipaa|wcag|pci|ada"
    r"|budget|deadline|by (?:january|february|march|april|may|june|july|august|september"
    r"|october|november|december|the end of|next (?:week|month|quarter)|q[1-4])|launch(?:es)? in"
    r"|ship(?:s|ping)? (?:by|in|before)|only (?:works|runs|have|has|supports?|got)|stuck with"
    r"|required|requirement|requires|need to support|needs to (?:work|support|run|be)"
    r"|limited to|no more than|at most|at least|within|on (?:a|an) (?:old|older|tiny|small)"
    r"|non-?negotiable|we'?re locked into|locked in|the (?:client|stakeholders?|boss) (?:wants?"
    r"|insists?))\b"
)
_IDEA = re.compile(
    r"\b(?:what if|maybe we (?:could|should|can|do)|we could|could we|how about|what about"
    r"|one (?:option|idea|thought) (?:is|would be)|another option|an idea|i'?m toying with"
    r"|might be worth|worth trying|we might|perhaps we|idea is|option is|alternatively"
    r"|or maybe|maybe (?:a|an|the|some)\b)"
)
_NEXT_STEP = re.compile(
    r"\b(?:next step|next steps|to ?do|action item|i'?ll (?:test|try|ask|talk|check|sketch|"
    r"prototype|run|mock|write|send|share|book|schedule|set up|pull|look|draft|email|follow up|"
    r"grab|make|put|call|sit down|bring|review)|i'?m going to (?:test|try|ask|talk|check|sketch"
    r"|prototype|run|mock|write|send|share|book|schedule|set up|pull|draft|email|follow up)"
    r"|(?:i|we) need to (?:test|ask|talk|check|sketch|prototype|run|mock|write|send|share|book"
    r"|schedule|set up|pull|draft|email|follow up|validate)|plan to|tomorrow|this week"
    r"|next week|on (?:monday|tuesday|wednesday|thursday|friday))\b"
)
_AUDIENCE = re.compile(
    r"\b(?:it'?s for|this is for|(?:our|the) (?:users|audience|customers|people|members|"
    r"patients|visitors|riders|drivers|students|clients|employees|staff|kids|parents|teachers"
    r"|shoppers|buyers|sellers|readers|subscribers)(?: are| is|,)|aimed at|target(?:ing)?"
    r"|audience|primary users?|mostly (?:used by|people|students|parents|older|younger|"
    r"first-time|new|busy|nurses|doctors|teens|kids|seniors)|(?:they'?re|they are) (?:mostly|"
    r"usually|often|all)|persona|demographic|who (?:use|uses) it)\b"
)
_PROBLEM = re.compile(
    r"\b(?:the problem|the issue|problem is|issue is|pain point|drop(?:s|ping)? off|drop-?off"
    r"|abandon\w*|bounce\w*|churn\w*|complain\w*|struggl\w*|confus\w*|frustrat\w*|give up"
    r"|gives up|can'?t find|don'?t finish|never finish|don'?t understand|too (?:many|long|slow"
    r"|hard|complicated)|nobody (?:uses|finds|reads|clicks|understands)|keeps? failing|broken"
    r"|conversion|completion rate|support tickets|we'?re losing|losing people|people hate"
    r"|(?:is|are) failing|not working|doesn'?t work|gets? lost|overwhelm\w*|mess)\b"
)
# Questions put to Parley itself rather than about the design ("what do you think?").
_ASKS_PARLEY = re.compile(
    r"^(?:what do you think|what would you|do you think|does that make sense|right\b|any "
    r"thoughts|thoughts|make sense|you know what i mean|can you|could you|would you mind|"
    r"how does that sound|sound good|is that (?:crazy|dumb|silly|okay|ok))"
)
# A sentence this short rarely says anything worth writing down ("Okay." "Makes sense.").
_MIN_WORDS = 4


@dataclass(frozen=True, slots=True)
class Found:
    """A sentence that states an item, the section it belongs in and the turn it came from."""

    section: SectionKey
    text: str
    turn: int


@dataclass(frozen=True, slots=True)
class Retraction:
    """A sentence that takes something back ("actually, scrap the carousel")."""

    text: str
    turn: int


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def cleaned(sentence: str) -> str:
    """The sentence as an item: fillers off the front, a capital letter, bounded length."""
    text = _FILLER.sub("", sentence.strip()).strip(" ,")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if len(text) <= ITEM_CHARS else text[: ITEM_CHARS - 1].rstrip() + "\u2026"


def classify(sentence: str) -> SectionKey | None:
    """The section a spoken sentence belongs in, or None for talk that is not an item."""
    core = _FILLER.sub("", sentence.strip().lower()).strip(" ,")
    if len(core.split()) < _MIN_WORDS:
        return None
    if core.endswith("?"):
        if _ASKS_PARLEY.match(core):
            return None
        # "What if we ...?" and "Could we ...?" offer an idea; other questions stay open.
        return "ideas" if _IDEA.match(core) else "openQuestions"
    # The order settles sentences with more than one cue: "we'll have to ship by March" is a
    # constraint, "I'll test it with five people" a next step, "let's never ask" a decision.
    if _QUESTION.search(core):
        return "openQuestions"
    if _NEXT_STEP.search(core) and re.match(r"(?:i'?ll|i'?m going|next|to ?do|action|i need"
                                            r"|we need to (?:test|ask|talk)|plan)", core):
        return "nextSteps"
    if _CONSTRAINT.search(core) and not re.match(r"let'?s\b", core):
        return "constraints"
    if _DECISION.search(core):
        return "decisions"
    if _IDEA.search(core):
        return "ideas"
    if _NEXT_STEP.search(core):
        return "nextSteps"
    if _PROBLEM.search(core):
        return "problem"
    if _AUDIENCE.search(core):
        return "audience"
    return None


def extract(turns: Sequence[tuple[str, str]], since: int = 0) -> list[Found | Retraction]:
    """The items and retractions stated in the person's turns from index `since` on, in order.

    `turns` are (role, text) pairs in conversation order; the indexes count every turn.
    """
    said: list[Found | Retraction] = []
    for index, (role, text) in enumerate(turns):
        if index < since or role != "user":
            continue
        for sentence in sentences(text):
            lowered = sentence.lower()
            if _RETRACT.search(lowered):
                said.append(Retraction(sentence, index))
                # "Scrap the carousel, let's do a checklist" still decides something.
                rest = _RETRACT.split(lowered, maxsplit=1)[-1]
                if not _DECISION.search(rest):
                    continue
            section = classify(sentence)
            item = cleaned(sentence)
            if section is not None and item:
                said.append(Found(section, item, index))
    return said
