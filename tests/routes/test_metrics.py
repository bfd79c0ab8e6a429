"""POST /api/metrics/turn: the page's voice-to-voice timings, into /metrics when it is on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

A_TURN = {"path": "browser", "totalMs": 1480,
          "stages": {"endOfTurn": 900, "hearing": 2, "firstSentence": 410, "firstAudio": 168}}


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from the Prometheus text, or None when it is not there."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_a_turn_lands_in_the_histogram_by_path_and_stage(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True)
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/health")).json()["turn_metrics"] is True
        answered = await http.post("/api/metrics/turn", json=A_TURN)
        typed = {"path": "typed", "totalMs": 600, "stages": {"firstSentence": 420}}
        assert (await http.post("/api/metrics/turn", json=typed)).status_code == 204
        text = (await http.get("/metrics")).text
    assert answered.status_code == 204 and answered.content == b""
    hist = "parley_voice_to_voice_seconds"
    assert sample(text, f"{hist}_sum", path="browser", stage="total") == pytest.approx(1.48)
    assert sample(text, f"{hist}_sum", path="browser", stage="endOfTurn") == pytest.approx(0.9)
    assert sample(text, f"{hist}_count", path="browser", stage="firstAudio") == 1.0
    assert sample(text, f"{hist}_count", path="typed", stage="firstSentence") == 1.0
    # A stage a typed turn does not have is not counted as zero.
    assert sample(text, f"{hist}_count", path="typed", stage="endOfTurn") is None


@pytest.mark.parametrize("body", [
    {**A_TURN, "path": "carrier-pigeon"},
    {**A_TURN, "totalMs": -5},
    {**A_TURN, "totalMs": 10_000_000},
    {**A_TURN, "stages": {"endOfTurn": "soon"}},
    {**A_TURN, "stages": {"whatTheySaid": 12}},
    {**A_TURN, "text": "the words of the turn"},
    {"path": "browser"},
], ids=["path", "negative", "background-tab", "not-a-number", "unknown-stage", "words",
        "no-total"])
async def test_a_report_that_is_not_timings_is_422_and_counts_nothing(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, body: dict[str, Any]
) -> None:
    server = serve(metrics_enabled=True)
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await http.post("/api/metrics/turn", json=body)
        text = (await http.get("/metrics")).text
    assert refused.status_code == 422
    assert set(refused.json()["error"]) >= {"code", "message"}
    assert "parley_voice_to_voice_seconds_count{" not in text


async def test_reports_are_rate_limited_per_client(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True, rate_limit_per_client="3/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        codes = [(await http.post("/api/metrics/turn", json=A_TURN)).status_code
                 for _ in range(4)]
    assert codes == [204, 204, 204, 429]


async def test_with_metrics_off_there_is_nothing_to_report_to(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/health")).json()["turn_metrics"] is False
    refused = await client.post("/api/metrics/turn", json=A_TURN)
    # Only the web app's page fallback answers at that address (GET), so a report is refused.
    assert refused.status_code == 405
    assert refused.json()["error"]["code"] == "method_not_allowed"
