"""The living brief through the fake OpenAI upstream: the wiring, not a model's judgement.

The fake is scripted to answer each update with the set's own items said so far (and the
conflicts raised so far), as a perfect model would; the figures then say whether Parley's
request, the structured-output check, the merge and the turn links lose anything on the way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from bench.brief_eval import Score, Turns, score
from parley.brief.schema import SECTIONS, Brief
from parley.config import Settings
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

KEY = "sk-bench-brief-0123456789"


def _perfect(conversation: dict[str, Any], end: int) -> str:
    """What a perfect model answers after the first `end` turns."""
    said = [e for e in conversation["expected"] if e["turn"] < end]
    decisions = {e["turn"]: e["text"] for e in said if e["section"] == "decisions"}
    conflicts = [
        {"decision": decisions[c["decisionTurn"]], "decisionTurn": c["decisionTurn"],
         "turn": c["turn"], "note": "goes against the earlier decision"}
        for c in conversation.get("conflicts", []) if c["turn"] < end
    ]
    sections = {key: [{"text": e["text"], "turn": e["turn"]} for e in said
                      if e["section"] == key] for key in SECTIONS}
    return json.dumps({"title": conversation["id"], "sections": sections,
                       "conflicts": conflicts, "retracted": []})


def fake_path(conversations: Sequence[dict[str, Any]]) -> Score:
    with FakeOpenAI() as fake:
        settings = Settings(openai_base_url=fake.base_url, local_model="off", local_stt="off",
                            local_tts="off", rate_limit_per_client="10000/minute",
                            rate_limit_per_key="10000/minute")
        with LiveServer(settings) as server, httpx.Client(base_url=server.url,
                                                         timeout=30) as http:
            current: dict[str, Any] = {}

            def update(brief: Brief, turns: Turns, since: int) -> Brief:
                fake.script(Script(reply=_perfect(current, len(turns))), "brief")
                answer = http.post("/api/brief/update", json={
                    "apiKey": KEY, "brief": brief.wire(), "since": since,
                    "history": [{"role": r, "content": t} for r, t in turns]})
                answer.raise_for_status()
                return Brief.model_validate(answer.json()["brief"])

            results = Score()
            for conversation in conversations:
                current.clear()
                current.update(conversation)
                one = score([conversation], update)
                _add(results, one)
            return results


def _add(total: Score, one: Score) -> None:
    for name in ("produced", "right", "conflicts_expected", "conflicts_found",
                 "conflicts_false", "retracted", "retracted_gone"):
        setattr(total, name, getattr(total, name) + getattr(one, name))
    for key, value in one.expected.items():
        total.expected[key] = total.expected.get(key, 0) + value
    for key, value in one.caught.items():
        total.caught[key] = total.caught.get(key, 0) + value
    total.misses += one.misses
    total.extras += one.extras
