"""The two-instance proof of scale (bench/scale.py) passes on this machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.live import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_two_instances_share_limits_history_and_survive_a_crash() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.scale"], cwd=ROOT, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-> exact" in result.stdout
    assert "read via B (and hidden from another device): yes" in result.stdout
    assert result.stdout.strip().splitlines()[-2] == "PASS"
