"""The speech engines this server has, built once in the lifespan. (Filled in by the speech work.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI

from parley.config import Settings


@dataclass
class SpeechServices:
    stt: dict[str, Any] = field(default_factory=dict)
    tts: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Release models and threads."""

    def health(self) -> dict[str, Any]:
        """The `speech` part of /api/health."""
        return {"stt": sorted(self.stt), "tts": sorted(self.tts)}


async def build_speech(settings: Settings, client: AsyncOpenAI) -> SpeechServices:
    """Load the speech engines the settings and installed extras allow."""
    return SpeechServices()
