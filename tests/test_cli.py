"""The `parley` command."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.live import ROOT


def parley(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return subprocess.run(
        [sys.executable, "-m", "parley.cli", *args],
        env={**clean, "PARLEY_LOCAL_MODEL": "off", **env},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_help_lists_the_commands() -> None:
    result = parley("--help")
    assert result.returncode == 0
    for command in ("serve", "doctor", "db"):
        assert command in result.stdout


def test_operator_key_on_a_public_host_without_a_code_refuses_to_start() -> None:
    result = parley("serve", "--host", "0.0.0.0", "--port", "0",
                    PARLEY_OPENAI_API_KEY="sk-operator-public-123456")
    assert result.returncode == 2
    assert "PARLEY_ACCESS_CODE" in result.stderr
    assert "Traceback" not in result.stderr
    assert "sk-operator" not in result.stderr


def test_bad_settings_say_which_variable() -> None:
    result = parley("doctor", PARLEY_ALLOWED_ORIGINS="*")
    assert result.returncode == 2
    assert "PARLEY_ALLOWED_ORIGINS" in result.stderr


def test_metrics_on_a_public_host_without_a_token_refuses_to_start() -> None:
    result = parley("serve", "--host", "0.0.0.0", "--port", "0", PARLEY_METRICS_ENABLED="true")
    assert result.returncode == 2
    assert "PARLEY_METRICS_TOKEN" in result.stderr
