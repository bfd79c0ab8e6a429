"""POST /api/realtime/session on a live server, minting secrets from the fake OpenAI."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest

from parley.conversation.persona import system_prompt
from tests import errors
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer, Serve

KEY = "sk-proj-REALTIMEcanary0123456789abcdefXYZ9"
OPERATOR = "sk-operator-REALTIME-7777"


async def mint(server: LiveServer, body: dict[str, Any] | None = None,
               **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/realtime/session", json=body or {}, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    return errors.assert_error(response, status, code, secrets=(KEY, OPERATOR))


async def test_a_key_mints_a_secret_for_the_browser(server: LiveServer, fake: FakeOpenAI) -> None:
    response = await mint(server, {"apiKey": KEY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"client_secret", "expires_at", "webrtc_url", "model", "vision"}
    assert body["client_secret"].startswith("ek_")
    assert body["webrtc_url"] == f"{fake.base_url}/realtime/calls"
    assert body["model"] == "gpt-realtime"
    assert body["vision"] is True  # the page may send pictures into this call
    # A minute to connect: a leaked secret is worth little.
    assert abs(body["expires_at"] - (time.time() + 60)) < 30
    assert response.headers["cache-control"] == "no-store"
    assert KEY not in response.text
    (sent,) = fake.requests_for("realtime")
    assert sent.path == "/v1/realtime/client_secrets"
    assert sent.api_key == KEY


async def test_the_upstream_body_carries_persona_voice_transcription_and_turns(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    response = await mint(server, {"apiKey": KEY, "mode": "critique", "voice": "cedar"})
    assert response.status_code == 200, response.text
    sent = fake.requests_for("realtime")[0].json
    assert sent["expires_after"] == {"anchor": "created_at", "seconds": 60}
    session = sent["session"]
    assert session["type"] == "realtime"
    assert session["model"] == "gpt-realtime"
    assert session["instructions"] == system_prompt("critique")
    assert "Mode: critique" in session["instructions"]
    assert session["audio"] == {
        "input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
        },
        "output": {"voice": "cedar"},
    }


async def test_defaults_are_sparring_and_the_servers_voice(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    assert (await mint(server, {"apiKey": KEY})).status_code == 200
    session = fake.requests_for("realtime")[0].json["session"]
    assert session["instructions"] == system_prompt("sparring")
    assert session["audio"]["output"] == {"voice": "marin"}


async def test_the_operator_chooses_model_voice_and_turn_detection(
    serve: Serve, fake: FakeOpenAI
) -> None:
    server = serve(realtime_model="gpt-realtime-mini", realtime_voice="verse",
                   realtime_turn_detection="server_vad", openai_transcribe_model="whisper-1")
    response = await mint(server, {"apiKey": KEY})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "gpt-realtime-mini"
    session = fake.requests_for("realtime")[0].json["session"]
    assert session["model"] == "gpt-realtime-mini"
    assert session["audio"]["input"]["turn_detection"] == {"type": "server_vad"}
    assert session["audio"]["input"]["transcription"] == {"model": "whisper-1"}
    assert session["audio"]["output"] == {"voice": "verse"}
    assert response.json()["vision"] is True
    server = serve(realtime_eagerness="high")
    assert (await mint(server, {"apiKey": KEY})).status_code == 200
    detection = fake.requests_for("realtime")[1].json["session"]["audio"]["input"]
    assert detection["turn_detection"] == {"type": "semantic_vad", "eagerness": "high"}


@pytest.mark.parametrize(("model", "setting", "sees"), [
    ("gpt-4o-realtime-preview", "auto", False),  # the beta models hear and speak only
    ("gpt-4o-mini-realtime-preview-2024-12-17", "auto", False),
    ("gpt-4o-realtime-preview", "on", True),  # the operator knows better
    ("gpt-realtime", "off", False),
])
async def test_the_page_is_told_whether_the_call_can_see_pictures(
    serve: Serve, fake: FakeOpenAI, model: str, setting: str, sees: bool
) -> None:
    server = serve(realtime_model=model, realtime_vision=setting)
    response = await mint(server, {"apiKey": KEY})
    assert response.status_code == 200, response.text
    assert response.json()["vision"] is sees


@pytest.mark.parametrize("via", ["body", "bearer"])
async def test_the_persons_key_comes_from_body_or_bearer(
    server: LiveServer, fake: FakeOpenAI, via: str
) -> None:
    if via == "body":
        response = await mint(server, {"apiKey": KEY})
    else:
        response = await mint(server, {}, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    assert fake.requests_for("realtime")[0].api_key == KEY


async def test_the_body_key_wins_over_bearer(server: LiveServer, fake: FakeOpenAI) -> None:
    response = await mint(server, {"apiKey": KEY}, headers={"Authorization": "Bearer sk-other"})
    assert response.status_code == 200, response.text
    assert fake.requests_for("realtime")[0].api_key == KEY


async def test_no_key_says_realtime_needs_one(server: LiveServer, fake: FakeOpenAI) -> None:
    error = assert_error(await mint(server, {"mode": "sparring"}), 401, "api_key_required")
    assert "Realtime" in error["message"] and "OpenAI API key" in error["message"]
    # A signed-in identity token is not an API key.
    response = await mint(server, {}, headers={"Authorization": "Bearer eyJhbGciOi.x.y"})
    assert_error(response, 401, "api_key_required")
    assert fake.requests == []


async def test_the_operator_key_needs_the_access_code(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(openai_api_key=OPERATOR, access_code="let-me-in-please")
    response = await mint(server, {}, headers={"X-Parley-Access-Code": "let-me-in-please"})
    assert response.status_code == 200, response.text
    assert fake.requests_for("realtime")[0].api_key == OPERATOR
    assert OPERATOR not in response.text
    wrong = await mint(server, {}, headers={"X-Parley-Access-Code": "nope"})
    assert "not right" in assert_error(wrong, 401, "access_code_required")["message"]
    assert_error(await mint(server, {}), 401, "access_code_required")
    # The person's own key needs no code.
    assert (await mint(server, {"apiKey": KEY})).status_code == 200
    assert fake.requests_for("realtime")[-1].api_key == KEY


async def test_an_operator_key_without_access_code_serves_everyone(
    serve: Serve, fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR, operator_key_loopback=True)
    response = await mint(server, {})
    assert response.status_code == 200, response.text
    assert fake.requests_for("realtime")[0].api_key == OPERATOR


@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (Script(fault="401"), 401, "invalid_api_key"),
        (Script(fault="429", retry_after=3), 429, "upstream_rate_limited"),
        (Script(fault="429_quota"), 429, "upstream_rate_limited"),
        (Script(fault="500"), 502, "upstream_error"),
        (Script(fault="503"), 502, "upstream_error"),
        (Script(status=403), 422, "upstream_rejected"),
    ],
)
async def test_upstream_errors_keep_the_contract_shape(
    server: LiveServer, fake: FakeOpenAI, script: Script, status: int, code: str
) -> None:
    fake.script(script, "realtime")
    response = await mint(server, {"apiKey": KEY})
    error = assert_error(response, status, code)
    assert "Incorrect API key" not in error["message"]  # OpenAI's own words stay upstream
    if script.fault == "429":
        assert response.headers["Retry-After"] == "3"


async def test_a_stuck_upstream_times_out(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(first_token_timeout=0.3)
    fake.script(Script(fault="hang"), "realtime")
    assert_error(await mint(server, {"apiKey": KEY}), 504, "upstream_timeout")


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({"apiKey": KEY, "mode": "chat"}, 422, "invalid_request", "mode"),
        ({"apiKey": KEY, "voice": "darth"}, 422, "invalid_request", "darth"),
        ({"apiKey": KEY, "voice": "x\u0000"}, 422, "invalid_request", "voice"),
        ({"apiKey": "sk-caf\u00e9-key"}, 422, "invalid_request", "apiKey"),
    ],
)
async def test_bad_requests_are_refused_before_any_upstream_call(
    server: LiveServer, fake: FakeOpenAI, body: dict[str, Any], status: int, code: str, says: str
) -> None:
    error = assert_error(await mint(server, body), status, code)
    assert says in error["message"] or says in str(error.get("details"))
    assert fake.requests == []


async def test_minting_is_rate_limited(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(rate_limit_per_client="2/minute")
    for _ in range(2):
        assert (await mint(server, {"apiKey": KEY})).status_code == 200
    assert_error(await mint(server, {"apiKey": KEY}), 429, "rate_limited")
    assert len(fake.requests_for("realtime")) == 2


async def test_the_key_never_reaches_a_log_line_or_a_body(
    serve: Serve, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(first_token_timeout=0.3, log_level="DEBUG")
    bodies: list[str] = []
    for script in (None, Script(fault="401"), Script(fault="429"), Script(fault="500"),
                   Script(fault="hang")):
        if script is not None:
            fake.script(script, "realtime")
        bodies.append((await mint(server, {"apiKey": KEY, "mode": "brainstorm"})).text)
    bodies.append((await mint(server, {}, headers={"Authorization": f"Bearer {KEY}"})).text)
    bodies.append((await mint(server, {"apiKey": KEY, "voice": "nope"})).text)
    logged = errors.log_text(caplog)
    assert "realtime secret minted" in logged
    errors.assert_not_leaked([logged, *bodies], KEY)
