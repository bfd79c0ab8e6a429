"""Operator key mode: people without a key may use the operator's, only with the access code."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

OPERATOR_KEY = "sk-operator-0123456789abcdefghij"


async def test_access_code_guards_the_operator_key(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR_KEY, access_code="studio-2026-north")
    turn = {"message": "Where do I start?"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        without = await http.post("/api/conversation", json=turn)
        wrong = await http.post("/api/conversation", json=turn,
                                headers={"X-Parley-Access-Code": "studio-2025-north"})
        right = await http.post("/api/conversation", json=turn,
                                headers={"X-Parley-Access-Code": "studio-2026-north"})
        own = await http.post("/api/conversation", json={**turn, "apiKey": "sk-mine-1234567"})
    assert without.status_code == 401
    assert without.json()["error"]["code"] == "access_code_required"
    assert wrong.status_code == 401 and "not right" in wrong.json()["error"]["message"]
    assert right.status_code == 200
    assert own.status_code == 200
    assert [r.api_key for r in fake.requests_for("chat")] == [OPERATOR_KEY, "sk-mine-1234567"]
    for response in (without, wrong, right, own):
        assert OPERATOR_KEY not in response.text and OPERATOR_KEY[-6:] not in response.text


async def test_the_development_opt_out_serves_this_machine_only(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    # As behind a proxy: the client's address is what the (trusted) proxy says.
    server = serve(openai_api_key=OPERATOR_KEY, operator_key_loopback=True,
                   trusted_proxies="127.0.0.1")
    turn = {"message": "Where do I start?"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        here = await http.post("/api/conversation", json=turn)
        elsewhere = await http.post("/api/conversation", json=turn,
                                    headers={"X-Forwarded-For": "203.0.113.9"})
    assert here.status_code == 200
    assert elsewhere.status_code == 401
    assert "own machine" in elsewhere.json()["error"]["message"]
    assert [r.api_key for r in fake.requests_for("chat")] == [OPERATOR_KEY]


async def test_people_behind_the_access_code_each_have_a_budget(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR_KEY, access_code="studio-2026-north",
                   rate_limit_per_person="2/minute")
    turn = {"message": "Where do I start?"}
    code = {"X-Parley-Access-Code": "studio-2026-north"}

    def device(n: int) -> dict[str, str]:
        return {**code, "X-Parley-Device": f"{n:064x}"}

    async with httpx.AsyncClient(base_url=server.url) as http:
        one = [(await http.post("/api/conversation", json=turn, headers=device(1))).status_code
               for _ in range(3)]
        two = (await http.post("/api/conversation", json=turn, headers=device(2))).status_code
        # A person with their own key is not counted against the operator's people.
        own = (await http.post("/api/conversation", headers=device(1),
                               json={**turn, "apiKey": "sk-mine-7654321"})).status_code
    assert one == [200, 200, 429]
    assert two == 200 and own == 200
