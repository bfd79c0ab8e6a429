"""Voice to voice, measured in the page: end of the person's words to the first sound.

Run with `python -m bench.voice_to_voice` (part of `make bench`). A real Chromium at an
iPhone viewport, with scripted speech (tests/browser/speech_fakes.js: the recognizer hears
what it is told; the device voice starts 10 ms after it is asked), talks hands-free to
`parley serve` in front of the fake OpenAI with model-like timing (first token after 200 ms,
then 20 ms a token). Each turn's stages are what the web app itself measured (js/timing.js),
read back from the turn it stored, so the bench and a person's phone use the same clock.

Parley's own share is everything but the two waits that are not Parley's: the end-of-turn
pause (the person's, by design) and the model's time to the end of its first sentence,
measured straight from the fake in the same run.

The offline path is the recorder's, with no key and nothing faked but the microphone:
Chromium's fake capture device plays an espeak-ng question (then silence) into the page, the
server's ear (Silero VAD, Whisper base) hears it, the offline model answers and Piper speaks.
One fresh page a turn, so the question starts when the microphone opens.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from bench.harness import LOGS, fake_openai, parley
from tests.browser.conftest import CHROMIUM_ARGS, FAKES, IPHONE, chromium_executable
from tests.live import ParleyProcess
from tests.speech.audio import speech_then_silence

KEY = "sk-bench-voice0123456789abcdefXYZ"
REPLY = ("Put the number they check every morning first. Then ask what they would cut. "
         "What does a good day look like for them?")
# Statements wait out a longer pause than questions (turn-end.js); both kinds are here.
QUESTIONS = [
    "Our dashboard shows twelve numbers at once",
    "Students open the app once a week, what do you think?",
    "The first screen asks for income and people leave",
    "Should the savings goal sit on the home screen?",
]
TURNS = 12
WARMUP = 2
OFFLINE_TURNS = 6
OFFLINE_QUESTION = "How should the onboarding flow start for new students?"
# No speech recognition in the page (an iPhone home-screen app): the recorder path.
NO_RECOGNITION = "delete window.SpeechRecognition; delete window.webkitSpeechRecognition;"
TURN_TIMEOUT_MS = 20_000
STAGES = ["endOfTurn", "hearing", "firstSentence", "firstAudio"]
GOAL_OWN_MS = 40  # Parley's own share, p95, with the device's voice
GOAL_SERVER_AUDIO_MS = 250  # first sentence event to first sound, with a server voice
GOAL_OFFLINE_MS = 1200  # offline recorder path, end of speech to first audio, p50


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def model_first_sentence_ms(fake_url: str, samples: int = 5) -> float:
    """The model's own time to the end of its first sentence, straight from the fake."""
    first = REPLY.split(". ")[0]
    times = []
    body = {"model": "gpt-4o-mini", "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    # One kept-alive connection, as Parley's own client keeps one to the upstream.
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as http:
        for _ in range(samples + 1):
            text = ""
            start = time.perf_counter()
            with http.stream("POST", f"{fake_url}/chat/completions", json=body) as r:
                for line in r.iter_lines():
                    if line.startswith("data: {"):
                        chunk = json.loads(line[6:])["choices"]
                        text += (chunk[0]["delta"].get("content") or "") if chunk else ""
                        if first in text and "." in text.split(first, 1)[1][:1]:
                            break
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])  # the first one opened the connection


@contextmanager
def phone(url: str, settings: dict[str, Any]) -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS,
                                     headless=True)
        context = browser.new_context(**IPHONE)
        context.add_init_script(path=str(FAKES))
        stored = {"parley.settings": {"rememberKey": True, "turns": "hands-free", **settings},
                  "parley.apiKey": KEY}
        seed = ";".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))})"
                        for k, v in stored.items())
        context.add_init_script(script=f"if (!sessionStorage.getItem('seeded')) {{{seed};"
                                       "sessionStorage.setItem('seeded', '1')}")
        page = context.new_page()
        page.goto(url)
        # Speak fast: the bench times the first sound, not the whole reply.
        page.evaluate("window.speechSynthesis.msPerChar = 1")
        try:
            yield page
        finally:
            browser.close()


TIMINGS = """() => {
  const id = localStorage.getItem('parley.current');
  const turns = id ? JSON.parse(localStorage.getItem('parley.' + id) || '{"turns":[]}').turns : [];
  return turns.filter((t) => t.role === 'assistant' && t.timing).map((t) => t.timing);
}"""


BARGE_IN = """() => {
  const mic = document.querySelector('[data-testid=mic]');
  if (mic.dataset.state === 'speaking' || mic.dataset.state === 'thinking') mic.click();
}"""


def spoken_turns(page: Page, turns: int) -> list[dict[str, Any]]:
    """`turns` hands-free turns; each one's timing as the page stored it."""
    page.wait_for_selector("[data-testid=mic][data-available=true]", timeout=TURN_TIMEOUT_MS)
    page.get_by_test_id("mic").click()
    for n in range(turns):
        page.wait_for_function("() => window.__recognition.active !== null",
                               timeout=TURN_TIMEOUT_MS)
        page.evaluate("(w) => window.__recognition.say(w)", QUESTIONS[n % len(QUESTIONS)])
        page.wait_for_function(f"() => ({TIMINGS})().length > {n}", timeout=TURN_TIMEOUT_MS)
        # Hands-free: Parley listens again once the reply is spoken; a long one (a server
        # voice plays the fake's audio at its length) is interrupted with a tap, as a person
        # who has heard enough would.
        page.evaluate(BARGE_IN)
        page.wait_for_selector("[data-testid=mic][data-state=listening]",
                               timeout=TURN_TIMEOUT_MS)
    timings: list[dict[str, Any]] = page.evaluate(TIMINGS)
    return timings


def table_rows(path: str, timings: list[dict[str, Any]], model_ms: float) -> list[str]:
    rows = []
    for stage in STAGES:
        values = [t["stages"][stage] for t in timings if stage in t["stages"]]
        if values:
            rows.append(f"| {path} | {stage} | {pct(values, 0.5):.0f} | {pct(values, 0.95):.0f} |")
    totals = [t["totalMs"] for t in timings]
    rows.append(f"| {path} | **total** | {pct(totals, 0.5):.0f} | {pct(totals, 0.95):.0f} |")
    own = [own_share(t, model_ms) for t in timings]
    rows.append(f"| {path} | Parley's own share | {pct(own, 0.5):.0f} | {pct(own, 0.95):.0f} |")
    return rows


def own_share(timing: dict[str, Any], model_ms: float) -> float:
    pause: float = timing["stages"].get("endOfTurn", 0)
    return max(0.0, float(timing["totalMs"]) - pause - model_ms)


def measure(settings: dict[str, Any], env: dict[str, str] | None = None) -> tuple[
        list[dict[str, Any]], float]:
    with fake_openai("--first-token-delay", "0.2", "--token-delay", "0.02",
                     "--reply", REPLY) as fake_url, \
            parley({"PARLEY_OPENAI_BASE_URL": fake_url, **(env or {})}, "voice") as server, \
            phone(server.url, settings) as page:
        model_ms = model_first_sentence_ms(fake_url)
        timings = spoken_turns(page, TURNS + WARMUP)[WARMUP:]
    return timings, model_ms


def offline_turns(turns: int) -> list[dict[str, Any]]:
    """Recorder-path turns against the offline stack; each turn's timing from the page."""
    env = {"PARLEY_LOCAL_MODEL": "auto", "PARLEY_LOCAL_STT": "auto", "PARLEY_LOCAL_TTS": "piper",
           "PARLEY_LOG_LEVEL": "WARNING"}
    timings: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as pw:
        audio = Path(folder) / "question.wav"
        speech_then_silence(OFFLINE_QUESTION, audio)
        server = ParleyProcess(env, LOGS / "voice-offline.log").start(timeout=180)
        browser = pw.chromium.launch(
            executable_path=chromium_executable(), headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={audio}",
                  "--autoplay-policy=no-user-gesture-required"])
        try:
            for _ in range(turns):
                context = browser.new_context(**IPHONE)
                context.add_init_script(path=str(FAKES))
                context.add_init_script(script=NO_RECOGNITION)
                context.add_init_script(script=(
                    "localStorage.setItem('parley.settings', JSON.stringify("
                    "{speakWith: 'server', turns: 'hands-free'}))"))
                page = context.new_page()
                page.goto(server.url)
                page.wait_for_selector("[data-testid=mic][data-available=true]",
                                       timeout=TURN_TIMEOUT_MS)
                page.get_by_test_id("mic").click()
                page.wait_for_function(f"() => ({TIMINGS})().length > 0", timeout=60_000)
                timings += page.evaluate(TIMINGS)
                context.close()
        finally:
            browser.close()
            server.stop()
    return timings


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main(out: Callable[[str], None] = print) -> None:
    out("## Voice to voice, measured in the page\n")
    out(f"Chromium at iPhone size, scripted speech, hands-free; {TURNS} turns after "
        f"{WARMUP} warm-up turns a path; the fake OpenAI answers with its first token after "
        "200 ms, then 20 ms a token. Stages as js/timing.js measured them (ms).\n")
    device, model_ms = measure({"speakWith": "device"})
    server, _ = measure({"speakWith": "server"})
    offline = offline_turns(OFFLINE_TURNS + 1)[1:]  # the first one warms the models
    out("| path | stage | p50 | p95 |")
    out("| --- | --- | --- | --- |")
    for row in (table_rows("browser speech, device voice", device, model_ms)
                + table_rows("browser speech, server voice", server, model_ms)
                + table_rows(f"offline, {offline[0]['path']} (Whisper, local model, Piper)",
                             offline, 0.0)[:-1]):
        out(row)
    own95 = pct([own_share(t, model_ms) for t in device], 0.95)
    audio = [t["stages"]["firstAudio"] for t in server if "firstAudio" in t["stages"]]
    out(f"\nThe model's own time to the end of its first sentence: {model_ms:.0f} ms "
        "(straight from the fake).\n")
    out("| goal | result | |")
    out("| --- | --- | --- |")
    out(f"| Parley's own share ≤ {GOAL_OWN_MS} ms p95 (device voice) | {own95:.0f} ms | "
        f"{verdict(own95 <= GOAL_OWN_MS)} |")
    if audio:
        audio95 = pct(audio, 0.95)
        out(f"| server voice: first audio ≤ {GOAL_SERVER_AUDIO_MS} ms after the first sentence "
            f"(p95) | {audio95:.0f} ms | {verdict(audio95 <= GOAL_SERVER_AUDIO_MS)} |")
    offline50 = pct([t["totalMs"] for t in offline], 0.5)
    out(f"| offline recorder path, end of speech to first audio ≤ {GOAL_OFFLINE_MS} ms p50 | "
        f"{offline50:.0f} ms | {verdict(offline50 <= GOAL_OFFLINE_MS)} |")


if __name__ == "__main__":
    main()
