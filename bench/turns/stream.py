"""Prototype: voice activity on the server, fed live over a WebSocket, measured.

`python -m bench.turns.stream` starts a small Starlette app in-process (uvicorn, a free port)
and streams corpus turns to it as the page would: 16 kHz 16-bit mono PCM in 32 ms binary
frames (what `pcm-worklet.js` posts from an AudioWorklet), paced in real time. The server runs
Silero (faster-whisper's ONNX copy) on every frame and sends back JSON events:

    {"type": "speech", "at": ms}                       speech began (after silence)
    {"type": "pause", "at": ms}                        200 ms of silence after speech
    {"type": "words", "text": ..., "spokeAt": ms}      a quick transcript of the speech before
                                                       that pause (Whisper base, short window)

`at`/`spokeAt` count samples, not the clock. The page would feed these to turn-end.js:
speech -> voice(), pause -> awaitWords(), words -> heard(text, now, {spokeAtMs, final: true}).
Measured: server time per frame, how long after the frame that completes a pause its event
arrives, and how long the words take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import time
from typing import Any

import numpy as np

from bench.turns import corpus
from bench.turns.corpus import RATE
from bench.turns.simulate import PAUSE_EVENT_MS, percentile

FRAME = 512  # samples: Silero's frame, 32 ms


def create_app(*, words: bool) -> Any:
    """The prototype app: one WebSocket route, `/listen`."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    from bench.turns.vad import SileroVad

    partials = None
    if words:
        from bench.turns.partials import Partials

        partials = Partials()
        partials.run_short(np.zeros(RATE, dtype=np.float32))  # load and warm up now

    async def listen(ws: WebSocket) -> None:
        await ws.accept()
        vad = SileroVad()
        heard: list[np.ndarray] = []  # samples since the last transcript
        samples = 0
        last_speech: int | None = None
        paused = True
        costs: list[float] = []
        worker = asyncio.Lock()  # one transcript at a time (as WhisperSTT's SerialWorker)
        tasks: set[asyncio.Task[None]] = set()

        async def transcribe(audio: np.ndarray, spoke_at: float) -> None:
            assert partials is not None
            async with worker:
                text = await asyncio.to_thread(partials.run_short, audio)
            await ws.send_text(json.dumps({"type": "words", "text": text, "spokeAt": spoke_at}))

        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect" or message.get("text") == "end":
                break
            pcm = np.frombuffer(message["bytes"], dtype="<i2").astype(np.float32) / 32768.0
            t = time.perf_counter()
            speaking = vad(pcm)
            costs.append(time.perf_counter() - t)
            samples += pcm.size
            now_ms = samples * 1000 / RATE
            if speaking or not paused:
                heard.append(pcm)
            if speaking:
                if paused:
                    await ws.send_text(json.dumps({"type": "speech", "at": now_ms}))
                paused, last_speech = False, samples
            elif not paused and last_speech is not None \
                    and (samples - last_speech) * 1000 / RATE >= PAUSE_EVENT_MS:
                paused = True
                spoke_at = last_speech * 1000 / RATE
                await ws.send_text(json.dumps({"type": "pause", "at": now_ms}))
                if partials is not None:
                    audio = np.concatenate(heard)
                    task = asyncio.create_task(transcribe(audio, spoke_at))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                heard = []
        await asyncio.gather(*tasks)
        await ws.send_text(json.dumps({"type": "stats", "us_per_frame": [c * 1e6 for c in costs]}))
        await ws.close()

    return Starlette(routes=[WebSocketRoute("/listen", listen)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def stream_turn(url: str, audio: np.ndarray, *, pace: bool) -> dict[str, Any]:
    """Send one clip frame by frame; note when each event came back (wall clock)."""
    import websockets

    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    sent_at: dict[int, float] = {}
    events: list[tuple[float, dict[str, Any]]] = []
    async with websockets.connect(url, max_size=None) as ws:

        async def receive() -> None:
            async for raw in ws:
                events.append((time.perf_counter(), json.loads(raw)))

        reader = asyncio.create_task(receive())
        start = time.perf_counter()
        for i in range(pcm.size // FRAME):
            if pace:  # real time, as a microphone delivers it
                await asyncio.sleep(max(0.0, start + i * FRAME / RATE - time.perf_counter()))
            sent_at[(i + 1) * FRAME] = time.perf_counter()
            await ws.send(pcm[i * FRAME : (i + 1) * FRAME].tobytes())
        await ws.send("end")
        await reader
    # How long after the frame that completed it did each pause / words event arrive?
    pause_ms, words_ms = [], []
    for at, event in events:
        if event["type"] == "pause":
            frame_end = round(event["at"] * RATE / 1000 / FRAME) * FRAME
            pause_ms.append((at - sent_at[frame_end]) * 1000)
        if event["type"] == "words":
            known = event["spokeAt"] + PAUSE_EVENT_MS
            frame_end = min(sent_at, key=lambda n: abs(n * 1000 / RATE - known))
            words_ms.append((at - sent_at[frame_end]) * 1000)
    stats = next(e for _, e in events if e["type"] == "stats")
    return {"pause_ms": pause_ms, "words_ms": words_ms, "us": stats["us_per_frame"],
            "events": [e for _, e in events if e["type"] != "stats"]}


async def measure(turns: int, *, words: bool, pace: bool) -> None:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(words=words), host="127.0.0.1", port=port,
                                           log_level="warning", ws_max_size=1 << 20))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn.Server has a flag, not an Event
        await asyncio.sleep(0.05)
    manifest = corpus.load()
    pause_ms: list[float] = []
    words_ms: list[float] = []
    us: list[float] = []
    sample_events: list[dict[str, Any]] = []
    for turn in manifest["turns"][:turns]:
        audio = corpus.load_wav(corpus.CACHE / turn["file"])
        audio = audio[: int((turn["true_end_ms"] + 1000) * RATE / 1000)]
        result = await stream_turn(f"ws://127.0.0.1:{port}/listen", audio, pace=pace)
        pause_ms += result["pause_ms"]
        words_ms += result["words_ms"]
        us += result["us"]
        sample_events = sample_events or result["events"]
    server.should_exit = True
    await serving
    paced = "paced in real time" if pace else "as fast as possible"
    print(f"Streaming VAD over a WebSocket ({turns} turns, {len(us)} frames of 32 ms, {paced}, "
          f"words {'on' if words else 'off'})")
    print(f"  Silero per frame on the server: median {statistics.median(us):.0f} us, "
          f"p95 {percentile(us, 95):.0f} us ({statistics.median(us) / 32000:.2%} of one core)")
    print(f"  pause event after its last frame was sent: median "
          f"{statistics.median(pause_ms):.1f} ms, p95 {percentile(pause_ms, 95):.1f} ms")
    if words_ms:
        print(f"  words after the pause was known: median {statistics.median(words_ms):.0f} ms, "
              f"p95 {percentile(words_ms, 95):.0f} ms ({len(words_ms)} transcripts)")
    print("  upstream: 32 kB/s of PCM (16 kHz x 16 bit); e.g. events of the first turn:")
    for e in sample_events[:8]:
        print(f"    {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--no-words", action="store_true")
    parser.add_argument("--fast", action="store_true", help="do not pace frames in real time")
    args = parser.parse_args()
    asyncio.run(measure(args.turns, words=not args.no_words, pace=not args.fast))


if __name__ == "__main__":
    main()
