"""schemathesis against Parley's own OpenAPI schema: no server errors, no schema violations.

Driven through schemathesis's Python API rather than its pytest plugin: the plugin's
lazy-fixture loader sets a private pytest attribute that pytest 9 no longer has.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from parley.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

EXAMPLES = {GenerationMode.POSITIVE: 70, GenerationMode.NEGATIVE: 50}
CONFIG = {
    "checks": {
        # A schema-valid request may still be refused for reasons no schema can carry: the
        # offline model is not installed, the key is missing, the operator's limit is lower.
        "positive_data_acceptance": {"enabled": False},
        # Invalid input must get a 4xx; 413 (too large) and 415 count as rejections too.
        "negative_data_rejection": {"expected-statuses": ["4XX"]},
    }
}


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("fuzz") / "history.db"
    with FakeOpenAI() as fake, LiveServer(
        Settings(
            openai_base_url=fake.base_url,
            local_model="off",
            # Offline speech, so /api/speech and /api/transcribe answer without a key too.
            local_stt="auto",
            local_tts="espeak",
            database_url=f"sqlite+aiosqlite:///{database}",  # type: ignore[arg-type]
            database_migrate_on_start=True,
            rate_limit_per_client="1000000/minute",
            rate_limit_per_key="1000000/minute",
            first_token_timeout=2.0,
            log_level="WARNING",
        )
    ) as server:
        yield server


def fuzz(operation: Any, mode: GenerationMode, examples: int) -> int:
    """Run generated cases against one operation; how many ran."""
    ran = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        nonlocal ran
        ran += 1
        case.call_and_validate(timeout=30)

    try:
        run()
    except Unsatisfiable:
        # An operation with no inputs has nothing to make invalid.
        assert mode is GenerationMode.NEGATIVE
    return ran


def test_every_endpoint_survives_generated_requests(fuzzed_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(
        f"{fuzzed_server.url}/api/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
    )
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"Parley's OpenAPI document is invalid: {result.err()}"
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        counts[label] = sum(fuzz(operation, mode, n) for mode, n in EXAMPLES.items())
    total = sum(counts.values())
    assert total >= 1000, counts
    assert {"POST /api/conversation", "POST /api/brief", "GET /api/health"} <= set(counts)
