"""The offline voice turn, timed: recorded question -> words -> first sentence -> first audio.

Run with `python -m bench.offline_voice`. Parley runs as its own process with every local
model on (Whisper, the SmolLM2 chat model, Piper), as `make run` serves it with no key:

1. espeak-ng speaks a question, re-encoded as Chrome records it (Opus in WebM);
2. POST /api/transcribe (local Whisper), with the `language` hint the web app sends;
3. POST /api/conversation (SSE, local chat model) until the first `sentence` event;
4. POST /api/speech (local Piper, MP3) for that sentence until the first audio bytes,
   sent at once while the reply goes on streaming (as the web app does).

Each stage is timed from its request to the moment the next stage could start; the total
is what a person waits between finishing a sentence and hearing the answer begin (minus
the browser's own end-of-turn silence detection). Median of several turns after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.live import ParleyProcess
from tests.speech.audio import RECORDINGS, encode, espeak_wav

QUESTIONS = [
    "How do I make onboarding less overwhelming?",
    "Our checkout has five steps. Where would you cut?",
    "What should I test first in a sign up flow?",
    "How should an empty state look for a new notes app?",
    "How do I present a risky redesign to my team?",
    "Name ideas for a budgeting app for students.",
]
GOAL_SECONDS = 2.0


@dataclass
class Turn:
    transcribe_ms: float
    first_sentence_ms: float
    first_audio_ms: float
    heard: str
    sentence: str

    @property
    def total_ms(self) -> float:
        return self.transcribe_ms + self.first_sentence_ms + self.first_audio_ms


async def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        await response.aread()
        raise RuntimeError(f"{response.request.url.path} answered {response.status_code}: "
                           f"{response.text}")


async def transcribe(http: httpx.AsyncClient, audio: bytes, language: str | None) -> str:
    recording = RECORDINGS["webm"]
    response = await http.post(
        "/api/transcribe",
        files={"audio": (recording.filename, audio, recording.content_type)},
        data={"language": language} if language else {},
    )
    await _check(response)
    text: str = response.json()["text"]
    return text


async def first_audio(http: httpx.AsyncClient, sentence: str) -> float:
    """When the first audio bytes of the spoken sentence arrived (perf_counter)."""
    body = {"text": sentence, "format": "mp3"}
    async with http.stream("POST", "/api/speech", json=body) as response:
        await _check(response)
        async for chunk in response.aiter_raw():
            if chunk:
                return time.perf_counter()
    raise RuntimeError("/api/speech answered with no audio")


async def reply_and_speak(http: httpx.AsyncClient, message: str) -> tuple[float, float, str]:
    """(first sentence at, first audio at, the sentence), as the web app does it: the first
    sentence is sent to /api/speech at once while the reply keeps streaming."""
    body = {"message": message, "stream": True}
    spoken: asyncio.Task[float] | None = None
    sentence_at, sentence = 0.0, ""
    async with http.stream("POST", "/api/conversation", json=body) as response:
        await _check(response)
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "sentence" and spoken is None:
                sentence_at, sentence = time.perf_counter(), json.loads(line[5:])["text"]
                spoken = asyncio.create_task(first_audio(http, sentence))
    # The whole reply is read, not cut off: a phone that stopped reading would be a barge-in.
    if spoken is None:
        raise RuntimeError("the conversation ended without a sentence")
    return sentence_at, await spoken, sentence


async def turn(http: httpx.AsyncClient, audio: bytes, language: str | None) -> Turn:
    start = time.perf_counter()
    heard = await transcribe(http, audio, language)
    heard_at = time.perf_counter()
    sentence_at, audio_at, sentence = await reply_and_speak(http, heard)
    return Turn(
        (heard_at - start) * 1000, (sentence_at - heard_at) * 1000,
        (audio_at - sentence_at) * 1000, heard, sentence,
    )


async def run(rounds: int, language: str | None) -> list[Turn]:
    recordings = [encode(espeak_wav(q), RECORDINGS["webm"]) for q in QUESTIONS]
    env = {"PARLEY_LOCAL_MODEL": "auto", "PARLEY_LOCAL_STT": "auto", "PARLEY_LOCAL_TTS": "piper"}
    log = Path(tempfile.gettempdir()) / "parley-bench-voice.log"
    server = ParleyProcess(env, log).start(timeout=120)
    turns: list[Turn] = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            health = (await http.get("/api/health")).json()
            print("speech engines:", json.dumps(health.get("speech")))
            for i in range(rounds + 1):  # the first turn warms caches and is not counted
                result = await turn(http, recordings[i % len(recordings)], language)
                if i:
                    turns.append(result)
                    print(f"  turn {i}: {result.total_ms:6.0f} ms  heard {result.heard!r}"
                          f"  -> {result.sentence!r}")
    finally:
        server.stop()
    return turns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.offline_voice", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--language", default="en",
                        help="the hint sent with each recording; '' for auto-detection")
    args = parser.parse_args(argv)
    turns = asyncio.run(run(args.rounds, args.language or None))
    stages = [
        ("transcribe (local Whisper base)", [t.transcribe_ms for t in turns]),
        ("first sentence (local chat model)", [t.first_sentence_ms for t in turns]),
        ("first audio (local Piper, mp3)", [t.first_audio_ms for t in turns]),
        ("total voice turn", [t.total_ms for t in turns]),
    ]
    hint = args.language or "none (auto-detect)"
    print(f"Offline voice turn, median of {len(turns)} turns, language hint: {hint}")
    for name, values in stages:
        print(f"  {name:<36}{statistics.median(values):>8.0f} ms"
              f"   (min {min(values):.0f}, max {max(values):.0f})")
    total = statistics.median(t.total_ms for t in turns) / 1000
    verdict = "met" if total < GOAL_SECONDS else "missed"
    print(f"  goal < {GOAL_SECONDS:.0f} s: {verdict} ({total:.2f} s)")


if __name__ == "__main__":
    main()
