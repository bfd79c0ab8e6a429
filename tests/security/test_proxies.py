"""Clients cannot choose their own rate-limit identity: only the proxy's word is believed."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI
from tests.live import ROOT, LiveServer

TURN = {"message": "hi", "apiKey": "sk-proxies-0123456789"}


async def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    # The proxy is somewhere else: this client (127.0.0.1) is not it.
    server = serve(trusted_proxies="10.9.9.9", rate_limit_per_client="90/minute",
                   rate_limit_per_key="1000/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        statuses = [
            (await http.post("/api/conversation", json=TURN,
                             headers={"X-Forwarded-For": f"203.0.113.{n % 200 + 1}"})).status_code
            for n in range(150)
        ]
    assert statuses.count(200) == 90
    assert statuses.count(429) == 60


async def test_the_trusted_proxy_names_the_client(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(trusted_proxies="127.0.0.1", rate_limit_per_client="2/minute",
                   rate_limit_per_key="1000/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        one = [(await http.post("/api/conversation", json=TURN,
                                headers={"X-Forwarded-For": "198.51.100.1"})).status_code
               for _ in range(3)]
        other = await http.post("/api/conversation", json=TURN,
                                headers={"X-Forwarded-For": "198.51.100.2"})
    assert one == [200, 200, 429]
    assert other.status_code == 200


def test_the_shipped_proxy_overwrites_the_header_and_is_the_only_one_trusted() -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"proxy_set_header X-Forwarded-For \$remote_addr;", nginx)
    assert "$proxy_add_x_forwarded_for" not in nginx
    compose = (ROOT / "compose.yaml").read_text()
    trusted = re.search(r'PARLEY_TRUSTED_PROXIES:\s*"?([^"\n]+)"?', compose)
    assert trusted is not None and trusted.group(1).strip() not in ("*", "")
    nginx_address = re.search(r"ipv4_address:\s*([\d.]+)", compose)
    assert nginx_address is not None and trusted.group(1).strip() == nginx_address.group(1)
