"""One structured log line per request, with a request id; never the content."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable

import httpx
import pytest

from parley.observability.logs import RedactingJsonFormatter
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

KEY = "sk-test-observe-0123456789abcdef"


async def logged(
    caplog: pytest.LogCaptureFixture, match: Callable[[logging.LogRecord], bool]
) -> list[logging.LogRecord]:
    """The matching records; the request line is written just after the last byte is sent."""
    for _ in range(200):
        found = [r for r in caplog.records if match(r)]
        if found:
            return found
        await asyncio.sleep(0.01)
    return []
SECRET_MESSAGE = "my confidential redesign of the checkout"


async def test_request_id_is_generated_or_passed_through(client: httpx.AsyncClient) -> None:
    generated = await client.get("/api/health")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    given = await client.get("/api/health", headers={"X-Request-ID": "trace-abc.123"})
    assert given.headers["x-request-id"] == "trace-abc.123"
    hostile = await client.get("/api/health", headers={"X-Request-ID": "x" * 65})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])


async def test_json_log_line_for_a_turn(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="parley.request")
    server = serve(log_format="json")
    fake.script(Script(reply="Try a shorter first step."))
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/conversation",
            json={"message": SECRET_MESSAGE, "apiKey": KEY},
            headers={"X-Request-ID": "turn-1"},
        )
    assert response.status_code == 200
    [record] = await logged(caplog, lambda r: getattr(r, "request_id", None) == "turn-1")
    line = json.loads(RedactingJsonFormatter().format(record))
    assert line["route"] == "/api/conversation" and line["status"] == 200
    assert line["provider"] == "openai" and line["model"].startswith("gpt-4.1-mini")
    assert line["first_token_ms"] is not None and line["total_ms"] >= line["first_token_ms"]
    assert line["duration_ms"] > 0 and line["level"] == "info"
    every_line = "\n".join(RedactingJsonFormatter().format(r) for r in caplog.records)
    assert SECRET_MESSAGE not in every_line and "Try a shorter first step" not in every_line
    assert KEY not in every_line


async def test_errors_are_logged_with_their_code(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="parley.request")
    server = serve()
    fake.script(Script(fault="401"))
    async with httpx.AsyncClient(base_url=server.url) as http:
        await http.post("/api/conversation", json={"message": "hi", "apiKey": KEY})
    [record] = await logged(caplog, lambda r: getattr(r, "route", None) == "/api/conversation")
    assert record.__dict__["status"] == 401
    assert record.__dict__["error_code"] == "invalid_api_key"
