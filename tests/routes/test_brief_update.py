"""POST /api/brief/update over HTTP: offline by the rules, through the fake with structured
outputs, and every way an update can go wrong leaves the old brief standing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from parley.brief.schema import SECTIONS, output_schema
from tests.errors import assert_error
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

KEY = "sk-test-brief-0123456789"

TALK = [
    {"role": "user", "content": "We're redesigning onboarding for a student budgeting app. "
     "People drop off at the income step."},
    {"role": "assistant", "content": "Where exactly do they stop?"},
    {"role": "user", "content": "Right at the income field. Let's never ask for income before "
     "they see any value. I'm not sure whether to show a sample budget first."},
    {"role": "assistant", "content": "A sample budget could show the value first."},
]
DECIDED = {"text": "Never ask for income before they see value", "turn": 2}


def brief(**sections: list[dict[str, Any]]) -> dict[str, Any]:
    return {"title": "Student budgeting onboarding",
            "sections": {key: sections.get(key, []) for key in SECTIONS}, "conflicts": []}


def answer(model_brief: dict[str, Any], retracted: list[str] | None = None) -> str:
    return json.dumps({**model_brief, "retracted": retracted or []})


@pytest.fixture(scope="module")
def offline() -> Iterator[LiveServer]:
    """One offline server (design notes and the bundled model) for the module's offline tests."""
    from parley.config import Settings

    with LiveServer(Settings(local_model="auto", local_stt="off", local_tts="off",
                             openai_base_url="http://127.0.0.1:9/v1")) as live:
        yield live


async def update(server: LiveServer, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        return await http.post("/api/brief/update", json=body)


@pytest.mark.local_model
async def test_offline_the_rules_fill_the_brief_from_the_persons_words(
    offline: LiveServer,
) -> None:
    got = await update(offline, history=TALK)
    assert got.status_code == 200, got.text
    result = got.json()
    assert result["provider"] == "local" and result["model"] == "parley-brief-rules"
    sections = result["brief"]["sections"]
    assert [i["turn"] for i in sections["problem"]] == [0]
    assert "income" in sections["decisions"][0]["text"] and sections["decisions"][0]["turn"] == 2
    assert "sample budget" in sections["openQuestions"][0]["text"]
    assert result["brief"]["title"]


@pytest.mark.local_model
async def test_offline_a_contradiction_is_recorded_with_both_turns(offline: LiveServer) -> None:
    first = (await update(offline, history=TALK)).json()["brief"]
    later = [*TALK, {"role": "user", "content": "Okay, let's ask for income up front."}]
    got = await update(offline, history=later, brief=first, since=len(TALK))
    assert got.status_code == 200, got.text
    (conflict,) = got.json()["brief"]["conflicts"]
    assert conflict["decisionTurn"] == 2 and conflict["turn"] == 4
    assert "income" in conflict["decision"]
    # The decision stays: a clash is noted, never resolved for the person.
    assert len(got.json()["brief"]["sections"]["decisions"]) == 2


@pytest.mark.local_model
async def test_offline_only_new_turns_are_read_so_hand_edits_stand(offline: LiveServer) -> None:
    edited = brief(decisions=[{"text": "Income comes after the sample budget", "turn": 2}])
    got = await update(offline, history=TALK, brief=edited, since=len(TALK))
    assert got.json()["brief"] == edited


async def test_with_a_key_the_model_gets_the_strict_schema_and_its_update_is_kept(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    proposed = brief(decisions=[DECIDED], problem=[{"text": "People drop off at income",
                                                    "turn": 0}])
    fake.script(Script(reply=answer(proposed)), "brief")
    got = await update(server, history=TALK, apiKey=KEY)
    assert got.status_code == 200, got.text
    assert got.json()["brief"] == proposed and got.json()["provider"] == "openai"
    (sent,) = fake.requests_for("brief")
    assert sent.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "brief", "strict": True, "schema": output_schema()},
    }
    prompt = sent.json["messages"][-1]["content"]
    assert "[2] Designer: Right at the income field." in prompt


@pytest.mark.parametrize(
    "bad",
    [
        "Sure! Here is the brief: problem is income.",  # junk
        answer(brief(decisions=[DECIDED]))[:40],  # truncated JSON
        json.dumps({"title": "x"}),  # not the schema
    ],
)
async def test_an_unusable_answer_is_asked_for_once_more(
    server: LiveServer, fake: FakeOpenAI, bad: str
) -> None:
    fixed = brief(decisions=[DECIDED])
    fake.script(Script(reply=bad), "brief")
    fake.script(Script(reply=answer(fixed)), "brief")
    got = await update(server, history=TALK, apiKey=KEY)
    assert got.status_code == 200, got.text
    assert got.json()["brief"] == fixed
    assert len(fake.requests_for("brief")) == 2


async def test_two_unusable_answers_are_brief_unavailable(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    old = brief(decisions=[DECIDED], ideas=[{"text": "A sample budget first", "turn": 2}])
    # The model drops an item the conversation never took back, twice.
    dropped = answer(brief(decisions=[DECIDED]))
    fake.script(Script(reply=dropped, times=2), "brief")
    got = await update(server, history=TALK, brief=old, apiKey=KEY)
    assert_error(got, 502, "brief_unavailable")
    assert "kept" in got.json()["error"]["message"]
    assert len(fake.requests_for("brief")) == 2


async def test_a_retracted_item_may_go(server: LiveServer, fake: FakeOpenAI) -> None:
    old = brief(decisions=[DECIDED], ideas=[{"text": "A progress bar", "turn": 2}])
    later = [*TALK, {"role": "user", "content": "Actually, scrap the progress bar."}]
    kept = answer(brief(decisions=[DECIDED]), retracted=["A progress bar"])
    fake.script(Script(reply=kept), "brief")
    got = await update(server, history=later, brief=old, since=4, apiKey=KEY)
    assert got.status_code == 200, got.text
    assert got.json()["brief"]["sections"]["ideas"] == []


async def test_turns_the_conversation_does_not_have_link_to_nothing(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply=answer(brief(decisions=[{"text": "Never ask", "turn": 99}]))), "brief")
    got = await update(server, history=TALK, apiKey=KEY)
    assert got.json()["brief"]["sections"]["decisions"] == [{"text": "Never ask", "turn": None}]


@pytest.mark.local_model
async def test_html_in_an_item_is_kept_as_text(offline: LiveServer) -> None:
    html = brief(ideas=[{"text": "<img src=x onerror=alert(1)> a <script>bold</script> idea",
                         "turn": None}])
    got = await update(offline, history=TALK, brief=html, since=len(TALK))
    assert got.status_code == 200, got.text
    assert got.json()["brief"]["sections"]["ideas"] == html["sections"]["ideas"]


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "x", "sections": {"problems": []}},  # not a section
        {"sections": {"ideas": [{"text": ""}]}},  # an empty item
        {"sections": {"ideas": [{"text": "ok", "turn": -1}]}},
        {"sections": {"ideas": "a string"}},
        {"conflicts": [{"note": "no decision"}]},
    ],
)
async def test_a_brief_that_is_not_the_schema_is_422(server: LiveServer, bad: Any) -> None:
    got = await update(server, history=TALK, brief=bad)
    assert_error(got, 422, "invalid_request")


async def test_a_brief_over_64_kb_is_413(server: LiveServer) -> None:
    item = {"text": "x" * 590, "turn": None}
    huge = brief(**{key: [item] * 20 for key in SECTIONS})  # about 85 KB, each part valid
    got = await update(server, history=TALK, brief=huge)
    assert_error(got, 413, "payload_too_large")
    assert "64 KB" in got.json()["error"]["message"]


async def test_the_next_turn_is_told_the_briefs_biggest_gap(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    current = brief(problem=[{"text": "People drop off at income", "turn": 0}],
                    decisions=[DECIDED])
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        got = await http.post("/api/conversation", json={
            "message": "What should the first screen say?", "history": TALK, "brief": current,
            "apiKey": KEY})
    assert got.status_code == 200, got.text
    (sent,) = fake.requests_for("chat")
    system = sent.json["messages"][0]["content"]
    assert "People drop off at income" in system and "who exactly this is for" in system


@pytest.mark.local_model
async def test_offline_the_reply_after_a_clash_says_so(offline: LiveServer) -> None:
    later = [*TALK, {"role": "user", "content": "Okay, let's ask for income up front."}]
    first = (await update(offline, history=TALK)).json()["brief"]
    clashed = (await update(offline, history=later, brief=first, since=4)).json()["brief"]
    history = [*later, {"role": "assistant", "content": "Up front is simpler to build."}]
    async with httpx.AsyncClient(base_url=offline.url, timeout=60) as http:
        got = await http.post("/api/conversation", json={
            "message": "And the button label?", "history": history, "brief": clashed})
    assert got.status_code == 200, got.text
    assert got.json()["reply"].startswith("That goes against what you decided earlier")
