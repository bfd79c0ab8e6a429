"""Removing anything key-shaped from text before it is logged, reported or returned."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# OpenAI secret keys (sk-..., sk-proj-...), Realtime client secrets (ek_...), any Bearer
# credential, and an `apiKey` field in JSON or form text. Deliberately greedy: a false
# positive costs a few log characters, a miss costs someone's money.
_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\bek_[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)\b(bearer)(\s+)[^\s\"',;]+"),
    re.compile(r"(?i)([\"']?api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"),
    re.compile(r"(?i)(x-parley-access-code[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"),
)


def redact(text: str) -> str:
    """`text` with every key-shaped value replaced by "[redacted]"."""
    if not text:
        return text
    text = _PATTERNS[0].sub(REDACTED, text)
    text = _PATTERNS[1].sub(REDACTED, text)
    text = _PATTERNS[2].sub(rf"\1\2{REDACTED}", text)
    text = _PATTERNS[3].sub(rf"\1{REDACTED}", text)
    return _PATTERNS[4].sub(rf"\1{REDACTED}", text)


def redact_value(value: object) -> object:
    """A copy of a JSON-like value with key-shaped strings and key-named fields redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if _is_secret_name(k) and v else redact_value(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def _is_secret_name(name: object) -> bool:
    if not isinstance(name, str):
        return False
    lowered = name.lower().replace("-", "_")
    return lowered in {
        "apikey", "api_key", "authorization", "access_code", "x_parley_access_code",
        "x_parley_device", "cookie", "client_secret", "password", "token",
    }
