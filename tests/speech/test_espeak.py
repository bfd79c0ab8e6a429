"""The espeak-ng fallback voice: a real subprocess, streamed, and always cleaned up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from parley import errors
from parley.speech.espeak import EspeakTTS
from parley.speech.pcm import UNKNOWN_SIZE, parse_wav_header
from tests.speech import engines
from tests.speech.audio import decode_pcm, heard

BINARY = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(BINARY is None, reason="the espeak-ng system package is missing")
LONG_TEXT = "This sentence is here to make a long reply for the voice to read aloud. " * 12


@pytest.fixture
def espeak() -> EspeakTTS:
    assert BINARY is not None
    return EspeakTTS(BINARY)


def espeak_children() -> list[int]:
    """espeak-ng processes whose parent is this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if comm == "espeak-ng" and ppid == os.getpid():
            found.append(int(entry.name))
    return found


def nothing_written(folder: Path) -> bool:
    return not any(folder.iterdir())


async def speak(espeak: EspeakTTS, text: str, fmt: str = "wav") -> bytes:
    chunks = espeak.synthesize(text, voice=None, fmt=fmt, api_key=None)
    return b"".join([chunk async for chunk in chunks])


async def test_wav_is_reframed_as_an_open_ended_stream(espeak: EspeakTTS) -> None:
    audio = await speak(espeak, "Hello from the fallback voice.")
    assert parse_wav_header(audio[:44]) == (22_050, 1, 2)
    assert int.from_bytes(audio[40:44], "little") == UNKNOWN_SIZE
    rate, samples = decode_pcm(audio)
    assert rate == 22_050 and samples > 22_050  # more than a second of speech
    assert espeak_children() == []


async def test_mp3_is_offered_and_decodes(espeak: EspeakTTS) -> None:
    assert espeak.formats == ("wav", "mp3")
    rate, samples = decode_pcm(await speak(espeak, "Hello from the fallback voice.", "mp3"))
    assert rate == 22_050 and samples > 22_050


@pytest.mark.parametrize("text", ["--help", "-v xx; rm -rf / $(id) `id`", "-w {out} hi"])
async def test_text_is_spoken_never_read_as_options_or_shell(
    espeak: EspeakTTS, text: str, tmp_path: Path
) -> None:
    out = tmp_path / "x.wav"
    audio = await speak(espeak, text.format(out=out))
    assert audio[:4] == b"RIFF" and len(audio) > 10_000
    assert nothing_written(tmp_path)


async def test_first_audio_arrives_while_espeak_is_still_speaking(espeak: EspeakTTS) -> None:
    chunks = espeak.synthesize(LONG_TEXT, voice="en-gb", fmt="wav", api_key=None)
    first = await anext(chunks)
    assert first[:4] == b"RIFF" and len(first) > 44
    # The reply is megabytes of audio and the pipe holds kilobytes: espeak-ng is blocked
    # writing the rest, so it is necessarily still running.
    assert len(espeak_children()) == 1
    await chunks.aclose()  # type: ignore[attr-defined]
    # Closing the stream (a listener who went away) kills and reaps the process.
    assert espeak_children() == []


async def test_a_missing_binary_is_an_error_not_a_hang(tmp_path: Path) -> None:
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(errors.UpstreamError):
        await speak(EspeakTTS(str(broken)), "Hello.")


@pytest.mark.speech_models
async def test_whisper_understands_espeak(espeak: EspeakTTS) -> None:
    sentence = "Please review the checkout screen"
    transcript = await engines.whisper().transcribe(
        await speak(espeak, sentence), content_type="audio/wav", filename="q.wav", api_key=None
    )
    assert heard(sentence, transcript.text) >= 3, transcript.text
