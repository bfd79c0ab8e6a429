"""POST /api/conversation against the fake OpenAI server, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from parley.conversation.sentences import SentenceSplitter
from tests import errors
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer
from tests.sse import collect, events

KEY = "sk-proj-CANARY0123456789abcdefCANARYxyz42"
REPLY = "Let them see their money first. Could step one be linking an account? What matters?"


def turn(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {"message": "Our onboarding feels heavy.", "apiKey": KEY}
    body.update(fields)
    return body


async def test_json_answer_carries_the_reply(client: httpx.AsyncClient, fake: FakeOpenAI) -> None:
    fake.script(Script(reply=REPLY))
    response = await client.post("/api/conversation", json=turn())
    assert response.status_code == 200
    body = response.json()
    assert body["reply"] == REPLY
    assert body["provider"] == "openai"
    assert body["model"].startswith("gpt-4.1-mini")
    assert body["usage"]["completion_tokens"] > 0
    assert body["timings"]["first_token_ms"] is not None
    assert body["timings"]["total_ms"] >= body["timings"]["first_token_ms"]


@pytest.mark.parametrize("via", ["body", "bearer"])
async def test_the_persons_key_reaches_upstream(
    client: httpx.AsyncClient, fake: FakeOpenAI, via: str
) -> None:
    if via == "body":
        response = await client.post("/api/conversation", json=turn())
    else:
        response = await client.post(
            "/api/conversation",
            json={"message": "Hello"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert response.status_code == 200
    [request] = fake.requests_for("chat")
    assert request.api_key == KEY


async def test_system_prompt_history_and_message_in_order(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    history = [
        {"role": "user", "content": "I'm designing onboarding for a budgeting app."},
        {"role": "assistant", "content": "Who is it for?"},
    ]
    response = await client.post(
        "/api/conversation", json=turn(history=history, mode="critique", message="Students.")
    )
    assert response.status_code == 200
    sent = fake.requests_for("chat")[0].json
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "Parley" in sent["messages"][0]["content"]
    assert "critique" in sent["messages"][0]["content"].lower()
    assert [m["content"] for m in sent["messages"][1:]] == [
        history[0]["content"], history[1]["content"], "Students."
    ]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_sse_events_come_in_contract_order(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply=REPLY))
    async with client.stream(
        "POST", "/api/conversation", json=turn(), headers={"Accept": "text/event-stream"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        got = await collect(response)
    names = [name for name, _ in got]
    assert names[-1] == "done"
    assert names.count("done") == 1 and "error" not in names
    assert set(names[:-1]) == {"delta", "sentence"}
    deltas = "".join(data["text"] for name, data in got if name == "delta")
    assert deltas == REPLY
    sentences = [data for name, data in got if name == "sentence"]
    assert [s["index"] for s in sentences] == list(range(len(sentences)))
    splitter = SentenceSplitter()
    assert [s["text"] for s in sentences] == splitter.feed(REPLY) + splitter.flush()
    done = got[-1][1]
    assert done["reply"] == REPLY and done["provider"] == "openai"
    # Each sentence is sent right after the delta that completes it.
    first_sentence_at = names.index("sentence")
    text_so_far = "".join(d["text"] for n, d in got[:first_sentence_at] if n == "delta")
    assert text_so_far.rstrip().endswith(".") and text_so_far.count(".") == 1


async def test_stream_flag_in_body_also_streams(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    async with client.stream("POST", "/api/conversation", json=turn(stream=True)) as response:
        names = [name async for name, _ in events(response)]
    assert names[-1] == "done" and "delta" in names


async def test_first_sentence_arrives_while_upstream_is_still_talking(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply=REPLY, token_delay=0.05))
    async with client.stream("POST", "/api/conversation", json=turn(stream=True)) as response:
        async for name, data in events(response):
            if name == "sentence":
                # The upstream is still mid-stream: the phone can start speaking now.
                assert fake.open_streams == 1
                assert fake.completed_streams == 0
                assert data["text"] == "Let them see their money first."
                break
    assert await fake.wait_for_async(lambda: fake.open_streams == 0, 2.0)


async def test_client_disconnect_reaches_upstream_within_a_second(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply="word " * 200, token_delay=0.05))
    async with client.stream("POST", "/api/conversation", json=turn(stream=True)) as response:
        async for name, _ in events(response):
            if name == "delta":
                break
    # Leaving the block closed the connection mid-stream.
    assert await fake.wait_for_async(lambda: fake.disconnects == 1, 1.0)
    assert fake.completed_streams == 0


@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (Script(fault="401"), 401, "invalid_api_key"),
        (Script(fault="429", retry_after=30), 429, "upstream_rate_limited"),
        (Script(fault="429_quota"), 429, "upstream_rate_limited"),
        (Script(fault="500", times=10), 502, "upstream_error"),
        (Script(fault="hang"), 504, "upstream_timeout"),
        (Script(fault="hang_after_headers"), 504, "upstream_timeout"),
        (Script(status=404), 422, "upstream_rejected"),
        (Script(status=400), 422, "upstream_rejected"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_failures_before_any_text_are_http_errors(
    serve: Callable[..., LiveServer],
    fake: FakeOpenAI,
    script: Script,
    status: int,
    code: str,
    stream: bool,
) -> None:
    server = serve(first_token_timeout=0.5, retry_budget=0.5)
    fake.script(script)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post("/api/conversation", json=turn(stream=stream))
    error = errors.assert_error(response, status, code, secrets=(KEY,))
    assert error["message"].endswith(".")
    if code == "upstream_rate_limited" and script.fault == "429":
        assert response.headers["retry-after"] == "30"


async def test_the_server_stays_healthy_after_every_fault(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(first_token_timeout=0.5, retry_budget=0.3)
    faults = ["401", "429", "429_quota", "500", "503", "hang", "hang_after_headers", "drop",
              "stall", "malformed", "error_event", "slow_headers"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for fault in faults:
            fake.script(Script(reply=REPLY, fault=fault, times=3))  # type: ignore[arg-type]
            for stream in (False, True):
                await http.post("/api/conversation", json=turn(stream=stream))
            fake.reset()
        fake.script(Script(reply=REPLY))
        after = await http.post("/api/conversation", json=turn())
        health = await http.get("/api/health")
    assert after.status_code == 200 and after.json()["reply"] == REPLY
    assert health.status_code == 200
    assert server.app.state.services.admission.streams.active == 0
    assert await fake.wait_for_async(lambda: fake.open_streams == 0, 2.0)


@pytest.mark.parametrize("fault", ["drop", "malformed", "error_event"])
async def test_mid_stream_failure_ends_with_an_error_event_and_the_partial(
    client: httpx.AsyncClient, fake: FakeOpenAI, fault: str
) -> None:
    fake.script(Script(reply=REPLY, fault=fault, fault_after=4))  # type: ignore[arg-type]
    async with client.stream("POST", "/api/conversation", json=turn(stream=True)) as response:
        assert response.status_code == 200
        got = await collect(response)
    names = [name for name, _ in got]
    assert names[-1] == "error" and "done" not in names
    error = got[-1][1]
    assert error["code"] == "upstream_error"
    partial = "".join(d["text"] for n, d in got if n == "delta")
    assert error["partial"] == partial and partial
    assert REPLY.startswith(partial)


async def test_a_stream_that_goes_silent_ends_with_the_partial_kept(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(first_token_timeout=0.5)
    fake.script(Script(reply=REPLY, fault="stall", fault_after=3))
    async with httpx.AsyncClient(base_url=server.url) as http:
        async with http.stream("POST", "/api/conversation", json=turn(stream=True)) as response:
            assert response.status_code == 200
            got = await collect(response)
    assert [name for name, _ in got].count("delta") == 3
    name, error = got[-1]
    assert name == "error" and error["code"] == "upstream_timeout"
    assert "part-way" in error["message"]
    assert error["partial"] and REPLY.startswith(error["partial"])
    assert await fake.wait_for_async(lambda: fake.disconnects == 1, 2.0)


async def test_mid_stream_failure_in_json_mode_keeps_the_partial(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply=REPLY, fault="drop", fault_after=3))
    response = await client.post("/api/conversation", json=turn())
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_error"
    assert error["partial"] and REPLY.startswith(error["partial"])


async def test_transient_failures_are_retried_before_the_first_byte(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(fault="500"))
    fake.script(Script(fault="429", retry_after=0.1))
    fake.script(Script(reply=REPLY))
    response = await client.post("/api/conversation", json=turn())
    assert response.status_code == 200 and response.json()["reply"] == REPLY
    assert len(fake.requests_for("chat")) == 3


async def test_quota_errors_are_not_retried(client: httpx.AsyncClient, fake: FakeOpenAI) -> None:
    fake.script(Script(fault="429_quota", times=3))
    response = await client.post("/api/conversation", json=turn())
    assert response.status_code == 429
    assert "billing" in response.json()["error"]["message"]
    assert len(fake.requests_for("chat")) == 1


async def test_no_key_and_no_local_model_asks_for_a_key(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    response = await client.post("/api/conversation", json={"message": "Hello"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_required"
    assert fake.requests == []


async def test_models_come_from_the_operators_allowlist(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_model=["gpt-4.1-mini", "gpt-4.1"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await http.post("/api/conversation", json=turn(model="o3-pro"))
        allowed = await http.post("/api/conversation", json=turn(model="gpt-4.1"))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "model_not_allowed"
    assert allowed.status_code == 200
    assert [r.json["model"] for r in fake.requests_for("chat")] == ["gpt-4.1"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_request"),
        ({"message": "   "}, 422, "invalid_request"),
        ({"message": "x" * 4001}, 413, "payload_too_large"),
        ({"message": "a\u0000b"}, 422, "invalid_request"),
        ({"message": "hi", "mode": "rant"}, 422, "invalid_request"),
        ({"message": "hi", "provider": "anthropic"}, 422, "invalid_request"),
        ({"message": "hi", "history": [{"role": "system", "content": "x"}]}, 422,
         "invalid_request"),
        ({"message": "hi", "history": [{"role": "user", "content": "x"}] * 201}, 413,
         "payload_too_large"),
    ],
)
async def test_bad_input_gets_a_clear_error(
    client: httpx.AsyncClient, fake: FakeOpenAI, body: dict[str, object], status: int, code: str
) -> None:
    response = await client.post("/api/conversation", json={**body, "apiKey": KEY})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert KEY not in response.text
    assert fake.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"message": "hi", "history": ' + b"9" * 5000 + b"}",  # past Python's int digit limit
        b'{"message": 1e999}',
        b'{"message": "hi", "mode": -1e400}',
    ],
)
async def test_huge_numbers_get_4xx(
    client: httpx.AsyncClient, fake: FakeOpenAI, raw: bytes
) -> None:
    response = await client.post(
        "/api/conversation", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["message"].endswith(".")
    assert fake.requests == []


async def test_lone_surrogates_and_bad_json_get_4xx(client: httpx.AsyncClient) -> None:
    raw = b'{"message": "hi \\ud800 there"}'
    response = await client.post(
        "/api/conversation", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    response = await client.post(
        "/api/conversation", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_json"


async def test_the_key_never_reaches_a_log_line(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(first_token_timeout=0.5, retry_budget=0.3, log_level="DEBUG")
    bodies: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for script in (
            Script(reply=REPLY),
            Script(fault="401"),
            Script(fault="429", retry_after=0.1, times=3),
            Script(fault="500", times=3),
            Script(fault="hang"),
            Script(fault="drop"),
            Script(fault="malformed"),
        ):
            fake.script(script)
            response = await http.post("/api/conversation", json=turn(stream=True))
            bodies.append(response.text)
        bodies.append((await http.post("/api/conversation", json=turn(model="nope"))).text)
    assert caplog.records, "expected the server to log something"
    errors.assert_not_leaked([errors.log_text(caplog), *bodies], KEY)
