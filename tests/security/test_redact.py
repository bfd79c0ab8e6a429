"""Anything key-shaped is removed before it is logged or returned."""

from __future__ import annotations

import pytest

from parley.security.redact import redact, redact_value

CANARY = "sk-proj-CANARYcanary1234567890abcdefXYZ987"


@pytest.mark.parametrize(
    "text",
    [
        f"key={CANARY}",
        f"Authorization: Bearer {CANARY}",
        f'{{"apiKey": "{CANARY}", "message": "hi"}}',
        "authorization: bearer abc.def-ghi_123456",
        "client secret ek_68a1b2c3d4e5f6 issued",
        '{"apiKey":"not-shaped-like-a-key"}',
        "api_key=plainvalue123",
    ],
)
def test_key_shapes_are_removed(text: str) -> None:
    cleaned = redact(text)
    assert "[redacted]" in cleaned
    for secret in (CANARY, CANARY[-6:], "abc.def-ghi_123456", "ek_68a1b2c3d4e5f6",
                   "not-shaped-like-a-key", "plainvalue123"):
        assert secret not in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "Design the sign-up flow; ask about skeleton screens."
    assert redact(text) == text


def test_nested_values_are_redacted() -> None:
    value = {"headers": {"Authorization": "Bearer x"}, "apiKey": "zzz", "list": [CANARY, 3]}
    assert redact_value(value) == {
        "headers": {"Authorization": "[redacted]"},
        "apiKey": "[redacted]",
        "list": ["[redacted]", 3],
    }
