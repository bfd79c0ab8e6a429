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
    server = serve(openai_api_key=OPERATOR_KEY, access_code="studio-2026")
    turn = {"message": "Where do I start?"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        without = await http.post("/api/conversation", json=turn)
        wrong = await http.post("/api/conversation", json=turn,
                                headers={"X-Parley-Access-Code": "studio-2025"})
        right = await http.post("/api/conversation", json=turn,
                                headers={"X-Parley-Access-Code": "studio-2026"})
        own = await http.post("/api/conversation", json={**turn, "apiKey": "sk-mine-1234567"})
    assert without.status_code == 401
    assert without.json()["error"]["code"] == "access_code_required"
    assert wrong.status_code == 401 and "not right" in wrong.json()["error"]["message"]
    assert right.status_code == 200
    assert own.status_code == 200
    assert [r.api_key for r in fake.requests_for("chat")] == [OPERATOR_KEY, "sk-mine-1234567"]
    for response in (without, wrong, right, own):
        assert OPERATOR_KEY not in response.text and OPERATOR_KEY[-6:] not in response.text
