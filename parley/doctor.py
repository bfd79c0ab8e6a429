"""`parley doctor`: what is ready on this machine and what to do about what is not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parley.config import Settings

Level = Literal["ok", "warn", "fail", "info"]


@dataclass(frozen=True, slots=True)
class Line:
    level: Level
    text: str


def report(settings: Settings) -> list[Line]:
    """One line per capability. Never prints a key, a password or a database URL."""
    lines = [
        Line("ok", f"OpenAI-compatible API at {settings.openai_base_url} "
                   f"(models: {', '.join(settings.openai_model)})"),
    ]
    if settings.openai_api_key is not None:
        guard = "behind an access code" if settings.access_code else "loopback only"
        lines.append(Line("info", f"Operator key is set ({guard}); people may talk without one."))
    else:
        lines.append(Line("info", "No operator key: people bring their own OpenAI key."))
    return lines
