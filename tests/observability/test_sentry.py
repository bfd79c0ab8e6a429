"""Sentry events are scrubbed: no request bodies, headers or anything key-shaped."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import sentry_sdk

from parley.observability.sentry import scrub_event
from tests.live import LiveServer
from tests.sentry import CapturingTransport

CANARY = "sk-proj-SENTRYcanary0123456789abcdefXYZ"


def test_scrub_event_removes_bodies_headers_and_keys() -> None:
    event = {
        "request": {"data": {"apiKey": CANARY}, "headers": {"Authorization": f"Bearer {CANARY}"},
                    "url": "https://parley.example/api/conversation"},
        "exception": {"values": [{"value": f"bad key {CANARY}"}]},
        "extra": {"api_key": "plain-secret-value"},
    }
    scrubbed = json.dumps(scrub_event(event))
    assert CANARY not in scrubbed and CANARY[-6:] not in scrubbed
    assert "plain-secret-value" not in scrubbed
    assert "https://parley.example/api/conversation" in scrubbed


async def test_events_from_a_failing_route_carry_no_key(
    serve: Callable[..., LiveServer], sentry: CapturingTransport
) -> None:
    server = serve()

    async def boom() -> None:
        logging.getLogger("parley.test").error("about to fail with %s", CANARY)
        raise RuntimeError(f"upstream said: Incorrect API key provided: {CANARY}")

    # A route that fails the way a bug would; placed before the web app's catch-all mount.
    server.app.add_api_route("/api/boom", boom)
    server.app.router.routes.insert(0, server.app.router.routes.pop())

    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/api/boom", headers={"Authorization": f"Bearer {CANARY}"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    sentry_sdk.flush()
    captured = "\n".join(sentry.items)
    assert "RuntimeError" in captured, "the error should have reached Sentry"
    assert CANARY not in captured and CANARY[-6:] not in captured
    assert CANARY not in response.text
