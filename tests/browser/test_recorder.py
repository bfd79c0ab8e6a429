"""The recorder path end to end: no speech recognition (an iPhone home-screen app, Firefox),
Chromium's fake microphone playing real speech, and local models only — Whisper hears it,
the offline model answers, Piper speaks the answer through an audio element."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.browser.conftest import CHROMIUM_ARGS, FAKES, IPHONE, chromium_executable, shot
from tests.live import LiveServer
from tests.speech.audio import heard, speech_then_silence

pytestmark = [pytest.mark.browser, pytest.mark.speech_models, pytest.mark.local_model]

SAID = "How should the onboarding flow start for new students"

# Recognition missing, as in an iPhone home-screen app; every audio play() is noted.
INIT = """
delete window.SpeechRecognition; delete window.webkitSpeechRecognition;
window.__played = [];
window.__streams = [];
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await getUserMedia(constraints);
  window.__streams.push(stream);
  return stream;
};
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (this.src && !this.src.startsWith("data:")) window.__played.push(Date.now());
  return play.call(this);
};
"""


@pytest.fixture(scope="module")
def recording_browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Browser]:
    audio = tmp_path_factory.mktemp("mic") / "turn.wav"
    speech_then_silence(SAID, audio)
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={audio}",
              "--autoplay-policy=no-user-gesture-required"],
    )
    yield browser
    browser.close()


# Live: the microphone streams to the server's ear (Silero VAD, words at each pause). Recorded:
# a browser without AudioWorklets records the turn and sends it whole (the fallback).
EARS = {"live": "", "recorded": "delete window.AudioWorkletNode;"}


@pytest.mark.parametrize("ear", sorted(EARS))
def test_a_home_screen_style_voice_turn_with_local_models_only(
    recording_browser: Browser, serve: Callable[..., LiveServer], ear: str
) -> None:
    server = serve(local_model="auto", local_stt="auto", local_tts="piper")
    context = recording_browser.new_context(**IPHONE)
    context.add_init_script(path=str(FAKES))
    context.add_init_script(script=INIT)
    context.add_init_script(script=EARS[ear])
    context.add_init_script(script=(
        "localStorage.setItem('parley.settings', JSON.stringify("
        "{pauseSeconds: 0.8, speakWith: 'server', turns: 'push-to-talk'}))"
    ))
    page: Page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(server.url)
        mic = page.get_by_test_id("mic")
        expect(mic).to_have_attribute("data-available", "true", timeout=15000)
        box = mic.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()  # held, as push-to-talk: the pause after the words ends the turn
        expect(mic).to_have_attribute("data-state", "listening")
        shot(page, f"14-recording-{ear}")
        # Silence after the words ends the turn; Whisper hears it; the offline model answers.
        user = page.get_by_test_id("message").first
        try:
            expect(user).to_have_attribute("data-role", "user", timeout=30000)
        except AssertionError:
            status = page.get_by_test_id("status").inner_text()
            raise AssertionError(f"no turn was heard; status: {status!r}") from None
        page.mouse.up()
        assert heard(SAID, user.inner_text()) >= 5, user.inner_text()
        # The question runs 2.7 s without a pause: its end is in the turn (the live ear once
        # ended a turn 2 s after speech began, whatever was still being said).
        assert heard("new students", user.inner_text()) == 2, user.inner_text()
        reply = page.get_by_test_id("message").nth(1)
        expect(reply).to_have_attribute("data-pending", "false", timeout=60000)
        assert len(reply.locator(".text").inner_text().split()) >= 3
        # The answer is spoken through server audio (Piper), not the browser's voices.
        page.wait_for_function("() => window.__played.length >= 1", timeout=30000)
        assert page.evaluate("window.__spoken.length") == 0
        shot(page, f"15-recorded-turn-answered-{ear}")
        # The microphone was released when the turn ended: Parley speaks with it closed.
        expect(mic).to_have_attribute("data-state", "speaking")
        assert page.evaluate("window.__streams.length") == 1
        assert page.evaluate(
            "window.__streams.every(s => s.getTracks().every(t => t.readyState === 'ended'))"
        )
        assert errors == []
    finally:
        context.close()
