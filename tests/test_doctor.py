"""`parley doctor`: one honest line per part, exit 1 when something configured is broken."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.live import free_port
from tests.test_cli import parley

OPERATOR_KEY = "sk-operator-doctor-123456"
CODE = "door-code-4242-abcd"


@pytest.fixture(scope="module")
def picky_fake() -> Iterator[FakeOpenAI]:
    """A fake OpenAI that accepts only the operator's key."""
    with FakeOpenAI(accept_keys={OPERATOR_KEY}) as fake:
        yield fake


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


def line_about(result: subprocess.CompletedProcess[str], part: str) -> str:
    found = [line for line in lines(result) if part in line]
    assert found, f"no line about {part!r} in:\n{result.stdout}{result.stderr}"
    return found[0]


def test_a_healthy_install_exits_0_and_says_each_part_is_ready(picky_fake: FakeOpenAI) -> None:
    result = parley("doctor", PARLEY_LOCAL_MODEL="auto", PARLEY_OPENAI_BASE_URL=picky_fake.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert line_about(result, "Offline model:").startswith("✓")
    assert "SmolLM2" in line_about(result, "Offline model:")
    assert line_about(result, "Offline speech-to-text:").startswith("✓")
    assert line_about(result, "Offline voice:").startswith("✓")
    assert line_about(result, "Model API").startswith("✓")
    assert "History: kept on each device" in result.stdout


def test_a_database_that_is_down_exits_1_with_a_clear_line() -> None:
    port = free_port()
    result = parley("doctor", PARLEY_DATABASE_URL=f"postgresql://parley:hunter2@127.0.0.1:{port}/x")
    assert result.returncode == 1
    line = line_about(result, "Database:")
    assert line.startswith("✗")
    assert "cannot use the database" in line
    assert "hunter2" not in result.stdout + result.stderr


def test_a_database_without_parley_tables_says_to_migrate(tmp_path: Path) -> None:
    result = parley("doctor", PARLEY_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert "parley db upgrade" in line_about(result, "Database:")


@pytest.mark.postgres
def test_a_current_database_is_ready() -> None:
    upgraded = parley("db", "upgrade", PARLEY_DATABASE_URL="postgresql://postgres@127.0.0.1/test")
    assert upgraded.returncode == 0, upgraded.stderr
    result = parley("doctor", PARLEY_DATABASE_URL="postgresql://postgres@127.0.0.1/test")
    assert line_about(result, "Database:").startswith("✓")


def test_redis_that_is_down_exits_1() -> None:
    result = parley("doctor", PARLEY_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 1
    assert line_about(result, "Redis:").startswith("✗")


@pytest.mark.redis
def test_redis_that_is_up_is_ready() -> None:
    result = parley("doctor", PARLEY_REDIS_URL="redis://127.0.0.1:6379/0")
    assert line_about(result, "Redis:").startswith("✓")


def test_an_operator_key_that_works_is_checked_and_never_printed(picky_fake: FakeOpenAI) -> None:
    result = parley("doctor", PARLEY_OPENAI_BASE_URL=picky_fake.base_url,
                    PARLEY_OPENAI_API_KEY=OPERATOR_KEY, PARLEY_ACCESS_CODE=CODE)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "the operator key works" in line_about(result, "Model API")
    assert "behind an access code" in output
    assert "sk-operator" not in output and CODE not in output


def test_a_refused_operator_key_exits_1(picky_fake: FakeOpenAI) -> None:
    result = parley("doctor", PARLEY_OPENAI_BASE_URL=picky_fake.base_url,
                    PARLEY_OPENAI_API_KEY="sk-operator-wrong-999999", PARLEY_ACCESS_CODE=CODE)
    assert result.returncode == 1
    assert "was refused" in line_about(result, "Model API")
    assert "wrong-999999" not in result.stdout + result.stderr


def test_an_unreachable_configured_upstream_exits_1() -> None:
    result = parley("doctor", PARLEY_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    assert result.returncode == 1
    assert "not reachable" in line_about(result, "Model API")


def test_unsafe_settings_are_warned_about(picky_fake: FakeOpenAI) -> None:
    result = parley("doctor", PARLEY_OPENAI_BASE_URL=picky_fake.base_url,
                    PARLEY_OPENAI_API_KEY=OPERATOR_KEY, PARLEY_OPERATOR_KEY_LOOPBACK="true",
                    PARLEY_TRUSTED_PROXIES="*", PARLEY_ALLOWED_ORIGINS="http://app.example",
                    PARLEY_METRICS_ENABLED="true")
    assert line_about(result, "without an access code").startswith("!")
    assert line_about(result, "PARLEY_METRICS_TOKEN").startswith("!")
    assert line_about(result, "PARLEY_TRUSTED_PROXIES").startswith("!")
    assert line_about(result, "plain http").startswith("!")
