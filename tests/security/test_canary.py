"""A canary key through every path and fault mode: it must appear in no log, body or event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sentry_sdk

from tests.errors import log_text
from tests.fakes.openai_server import Endpoint, FakeOpenAI, Script
from tests.live import LiveServer
from tests.sentry import CapturingTransport
from tests.speech.audio import silent_wav

CANARY = "sk-proj-CANARYkey0123456789abcdefghijQRSTUV"
SECRETS = (CANARY, CANARY[-6:])
FAULTS = ["401", "429", "500", "hang", "drop", "stall", "malformed", "error_event"]
HISTORY = [{"role": "user", "content": "Onboarding is heavy."},
           {"role": "assistant", "content": "Where do people drop off?"}]


def requests_for(path: str) -> list[dict[str, Any]]:
    """The ways a key can arrive on `path`: in the body and as a Bearer header."""
    bodies: dict[str, dict[str, Any]] = {
        "/api/conversation": {"message": "Critique my flow", "history": HISTORY},
        "/api/brief": {"history": HISTORY},
        "/api/speech": {"text": "Hello there."},
    }
    if path == "/api/transcribe":
        audio = ("turn.wav", silent_wav(0.5), "audio/wav")
        return [
            {"files": {"audio": audio}, "data": {"apiKey": CANARY}},
            {"files": {"audio": audio}, "headers": {"Authorization": f"Bearer {CANARY}"}},
        ]
    body = bodies.get(path, {"mode": "critique"})
    return [
        {"json": {**body, "apiKey": CANARY}},
        {"json": {**body, "stream": True}, "headers": {"Authorization": f"Bearer {CANARY}"}},
    ]


ROUTES: list[tuple[str, Endpoint]] = [
    ("/api/conversation", "chat"),
    ("/api/brief", "chat"),
    ("/api/speech", "speech"),
    ("/api/realtime/session", "realtime"),
    ("/api/transcribe", "transcriptions"),
]


async def test_the_canary_never_leaks(
    serve: Callable[..., LiveServer],
    fake: FakeOpenAI,
    sentry: CapturingTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(log_level="DEBUG", first_token_timeout=0.5, retry_budget=0.3,
                   transcribe_timeout=0.5,
                   rate_limit_per_client="100000/minute", rate_limit_per_key="100000/minute")
    bodies: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        for path, endpoint in ROUTES:
            for fault in [None, *FAULTS]:
                for request in requests_for(path):
                    if fault is not None:
                        try:
                            fake.script(Script(fault=fault, times=3), endpoint)  # type: ignore[arg-type]
                        except ValueError:
                            continue  # this endpoint has no such fault
                    response = await http.post(path, **request)
                    bodies.append(response.text)
                    bodies.append(str(response.headers))
                    fake.reset()
        # Paths that never call upstream, with the key where it does not belong.
        for method, path in (("GET", "/api/health"), ("GET", "/api/sessions"),
                             ("GET", f"/api/nowhere?key={CANARY}")):
            response = await http.request(method, path,
                                          headers={"Authorization": f"Bearer {CANARY}"})
            bodies.append(response.text)
        bad = await http.post("/api/conversation", content=f'{{"apiKey": "{CANARY}", "x":'.encode(),
                              headers={"content-type": "application/json"})
        bodies.append(bad.text)
    sentry_sdk.flush()
    logs = log_text(caplog)
    events = "\n".join(sentry.items)
    assert len(bodies) > 40 and caplog.records
    for secret in SECRETS:
        assert secret not in logs, "a log line carries the key"
        assert all(secret not in body for body in bodies), "an answer carries the key"
        assert secret not in events, "a Sentry event carries the key"
