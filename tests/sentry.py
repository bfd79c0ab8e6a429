"""A fake Sentry transport, and the `sentry` fixture that reports to it (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from parley.observability.sentry import init_sentry


class CapturingTransport(Transport):
    """A fake Sentry transport: keeps every envelope's JSON items in memory."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.items: list[str] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            payload = item.get_bytes()
            self.items.append(payload.decode("utf-8", "replace"))


@pytest.fixture
def sentry() -> Iterator[CapturingTransport]:
    transport = CapturingTransport()
    init_sentry("https://public@sentry.example/1", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    # Back to a disabled client with no integrations: a bare init() leaves Sentry's
    # FastAPI wrapper parsing every later test's request bodies.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
