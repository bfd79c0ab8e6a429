"""Other web pages cannot use a Parley on someone's laptop: Host allowlist, Origin checks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from parley.security.origins import host_allowed
from tests.errors import assert_error
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

TURN = {"message": "hi", "apiKey": "sk-origins-0123456789"}


async def test_a_rebound_host_name_is_refused(server: LiveServer, fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        rebound = await http.post("/api/conversation", json=TURN,
                                  headers={"Host": "rebind.evil.example"})
        page = await http.get("/", headers={"Host": f"rebind.evil.example:{server.port}"})
        own = await http.post("/api/conversation", json=TURN,
                              headers={"Host": f"localhost:{server.port}"})
    assert_error(rebound, 400, "invalid_host")
    assert page.status_code == 400
    assert own.status_code == 200
    assert len(fake.requests_for("chat")) == 1


async def test_listed_hosts_are_answered(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(allowed_hosts="parley.example,.studio.example")
    async with httpx.AsyncClient(base_url=server.url) as http:
        statuses = [
            (await http.get("/api/health", headers={"Host": host})).status_code
            for host in ("parley.example", "team.studio.example", "studio.example",
                         "parley.example.evil", "evilstudio.example")
        ]
    assert statuses == [200, 200, 200, 400, 400]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:1"},  # another port on the same machine: another origin
    ],
)
async def test_cross_site_changes_are_refused(
    server: LiveServer, fake: FakeOpenAI, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        turn = await http.post("/api/conversation", json=TURN, headers=headers)
        # A multipart upload needs no CORS preflight: the classic cross-site POST.
        upload = await http.post("/api/transcribe", headers=headers,
                                 files={"audio": ("a.webm", b"\x1aE\xdf\xa3", "audio/webm")})
    assert_error(turn, 403, "cross_site_request")
    assert_error(upload, 403, "cross_site_request")
    assert fake.requests == []


async def test_the_apps_own_pages_and_listed_origins_may_post(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(allowed_origins="https://app.example")
    async with httpx.AsyncClient(base_url=server.url) as http:
        own = await http.post("/api/conversation", json=TURN,
                              headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
        listed = await http.post("/api/conversation", json=TURN,
                                 headers={"Origin": "https://app.example",
                                          "Sec-Fetch-Site": "cross-site"})
        reads = await http.get("/api/health", headers={"Origin": "https://evil.example"})
    assert own.status_code == 200
    # A listed origin is trusted even though the browser calls it cross-site.
    assert listed.status_code == 200
    assert reads.status_code == 200


def test_host_rules() -> None:
    allowed = frozenset({"parley.example", ".corp.example"})
    assert host_allowed("localhost", allowed) and host_allowed("127.0.0.1", allowed)
    assert host_allowed("::1", allowed) and host_allowed("app.localhost", allowed)
    assert host_allowed("a.b.corp.example", allowed) and host_allowed("corp.example", allowed)
    assert not host_allowed("xcorp.example", allowed)
    assert not host_allowed("parley.example.attacker.test", allowed)
