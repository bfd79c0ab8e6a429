"""Shared fixtures: the fake OpenAI server, settings pointed at it, and a live Parley."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from parley.config import Settings
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

pytest_plugins = ["tests.sentry"]

# Tests must not depend on whoever runs them: no PARLEY_* settings from the shell.
# PARLEY_TEST_* variables configure the test run itself and stay.
for _name in [n for n in os.environ
              if (n.startswith("PARLEY_") and not n.startswith("PARLEY_TEST_"))
              or n == "SENTRY_DSN"]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The fake OpenAI API, with no scripts, records or counters left from other tests."""
    fake_openai_server.reset()
    return fake_openai_server


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(fake: FakeOpenAI) -> SettingsFactory:
    """Settings pointed at the fake, with the local model off unless a test turns it on."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "openai_base_url": fake.base_url,
            "local_model": "off",
            "local_stt": "off",
            "local_tts": "off",
            "first_token_timeout": 5.0,
            "retry_budget": 2.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def serve(make_settings: SettingsFactory) -> Iterator[Callable[..., LiveServer]]:
    """Start live Parley servers with given settings overrides; all stop after the test."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> LiveServer:
            return stack.enter_context(LiveServer(make_settings(**overrides)))

        yield start


@pytest.fixture
def server(serve: Callable[..., LiveServer]) -> LiveServer:
    return serve()


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # llama-cpp-python opens two /dev/null files at import and never closes them, which
    # shows up as ResourceWarnings at exit.
    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None:
            handle.close()
