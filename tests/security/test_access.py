"""The access code cannot be guessed: every wrong code counted, then 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.errors import assert_error
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

OPERATOR_KEY = "sk-operator-guess-0123456789"
CODE = "studio-north-2026"
TURN = {"message": "Where do I start?"}


def guess(number: int) -> dict[str, str]:
    return {"X-Parley-Access-Code": f"guess-{number:06d}-xyz"}


async def test_three_hundred_wrong_codes_are_refused_after_a_few(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR_KEY, access_code=CODE,
                   rate_limit_per_client="1000/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        answers = [await http.post("/api/conversation", json=TURN, headers=guess(n))
                   for n in range(300)]
        # Even the right code waits once the client has guessed too often.
        right = await http.post("/api/conversation", json=TURN,
                                headers={"X-Parley-Access-Code": CODE})
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    refused = assert_error(answers[-1], 429, "too_many_attempts")
    assert "access code" in refused["message"]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert right.status_code == 429
    assert fake.requests_for("chat") == []


async def test_every_wrong_code_gets_the_same_answer_whatever_else_was_sent(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR_KEY, access_code=CODE)
    bodies = [TURN, {**TURN, "model": "no-such-model"}, {**TURN, "provider": "openai"},
              {"message": ""}, {"nonsense": True}]
    async with httpx.AsyncClient(base_url=server.url) as http:
        answers = [await http.post("/api/conversation", json=body, headers=guess(7))
                   for body in bodies]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code,
                                                            answers[0].text)}
    assert_error(answers[0], 401, "access_code_required")
    assert fake.requests_for("chat") == []


async def test_guesses_from_many_clients_are_counted_by_their_prefix(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    # Behind a trusted proxy each request may come from another address.
    server = serve(openai_api_key=OPERATOR_KEY, access_code=CODE,
                   trusted_proxies="127.0.0.1", rate_limit_per_client="1000/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        statuses = []
        for n in range(40):
            headers = {**guess(n), "X-Forwarded-For": f"198.51.100.{n + 1}"}
            statuses.append(
                (await http.post("/api/conversation", json=TURN, headers=headers)).status_code
            )
    # Each address guessed once; the shared prefix "gues" ran out after 30.
    assert statuses[:30] == [401] * 30
    assert set(statuses[30:]) == {429}


async def test_the_right_code_still_works_and_other_people_are_not_blocked(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key=OPERATOR_KEY, access_code=CODE)
    async with httpx.AsyncClient(base_url=server.url) as http:
        for n in range(2):
            await http.post("/api/conversation", json=TURN, headers=guess(n))
        right = await http.post("/api/conversation", json=TURN,
                                headers={"X-Parley-Access-Code": CODE})
        own_key = await http.post("/api/conversation",
                                  json={**TURN, "apiKey": "sk-own-key-0123456"})
    assert right.status_code == 200
    assert own_key.status_code == 200
    assert [r.api_key for r in fake.requests_for("chat")] == [OPERATOR_KEY, "sk-own-key-0123456"]
