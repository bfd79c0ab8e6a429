"""Checking Parley's error answers in tests: the contract's shape, and no secret in them."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(
    response: httpx.Response, status: int, code: str, *, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The error object, after checking status, code and that no secret (or its tail) leaked."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"], "every error tells the person what to do"
    for secret in secrets:
        for part in (secret, secret[-6:], secret[-4:]):
            assert part not in response.text
    return error
