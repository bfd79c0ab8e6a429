"""Checking Parley's error answers and logs in tests: the contract's shape, and no secret."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pytest


def assert_not_leaked(texts: Iterable[str], *secrets: str) -> None:
    """No secret, nor its last 6 or 4 characters, appears in any of `texts`."""
    texts = list(texts)
    for secret in secrets:
        for part in (secret, secret[-6:], secret[-4:]):
            assert all(part not in text for text in texts), "a secret (or its tail) leaked"


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured log record as text: message, traceback and every extra field."""
    return "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {sorted(r.__dict__.items(), key=str)}"
        for r in caplog.records
    )


def assert_error(
    response: httpx.Response, status: int, code: str, *, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The error object, after checking status, code and that no secret (or its tail) leaked."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"], "every error tells the person what to do"
    assert_not_leaked([response.text], *secrets)
    return error
