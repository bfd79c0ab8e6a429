"""Turn-taking at an iPhone viewport, with scripted speech in real time: never cut off
mid-thought, answer a finished question quickly, ignore "mm-hmm", always able to stop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_web_app import KEY, REPLY, open_app, talk
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

# Default patience (3 s after a finished sentence), so the cues are what is tested.
SETTINGS = {"parley.settings": {"rememberKey": True}, "parley.apiKey": KEY}
LISTENING = "() => window.__recognition.active !== null"


@pytest.fixture
def app_url(server: LiveServer) -> str:
    return server.url


def users(page: Page) -> list[str]:
    return [m.locator(".text").inner_text()
            for m in page.locator("[data-testid=message][data-role=user]").all()]


def test_a_pause_after_and_does_not_end_the_turn(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=SETTINGS)
    fake.script(Script(reply=REPLY))
    talk(page, "The onboarding has seven steps and")
    page.wait_for_timeout(2500)  # the person thinks for two and a half seconds
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "listening")
    page.evaluate("window.__recognition.say('the first one asks for income. What do you think?')")
    expect(page.locator("[data-testid=message][data-role=user]")).to_have_count(1, timeout=5000)
    expect(mic).not_to_have_attribute("data-state", "listening")
    said = users(page)[0]
    assert "seven steps and" in said and "asks for income" in said


def test_a_finished_question_ends_the_turn_after_a_short_pause(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=SETTINGS)
    fake.script(Script(reply=REPLY))
    talk(page, "Should the income question move to the last screen?")
    # After a question Parley waits about a third of a second, not the 3 s of patience
    # a plain statement gets: well inside the 0.8 s the person would wait.
    expect(page.locator("[data-testid=message][data-role=user]")).to_have_count(1, timeout=1500)
    assert users(page) == ["Should the income question move to the last screen?"]


def test_mm_hmm_does_not_interrupt_but_a_sentence_does(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    storage = {"parley.settings": {"rememberKey": True, "voiceBarge": "on",
                                   "pauseSeconds": 0.6}, "parley.apiKey": KEY}
    page = open_app(new_page, app_url, storage=storage)
    page.evaluate("window.speechSynthesis.msPerChar = 60")  # long enough to talk over
    fake.script(Script(reply=REPLY))
    talk(page, "Our onboarding feels heavy. What would you cut?")
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=5000)
    page.wait_for_function(LISTENING)  # listening over Parley's voice
    page.evaluate("window.__recognition.say('mm-hmm', {final: false})")
    page.evaluate("window.__recognition.say('yeah', {final: false})")
    expect(mic).to_have_attribute("data-state", "speaking")
    shot(page, "16-backchannel-ignored")
    page.evaluate("window.__recognition.say('wait, I meant the sign-up screens', "
                  "{final: false})")
    expect(mic).to_have_attribute("data-state", "listening", timeout=3000)
    interrupted = page.locator("[data-testid=message][data-role=assistant]").last
    expect(interrupted).to_have_attribute("data-interrupted", "true")


@pytest.mark.parametrize("phase", ["listening", "thinking", "speaking"])
def test_stop_returns_to_idle_from_each_hands_free_phase(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI, phase: str
) -> None:
    storage = {"parley.settings": {"rememberKey": True, "pauseSeconds": 0.6},
               "parley.apiKey": KEY}
    page = open_app(new_page, app_url, storage=storage)
    page.evaluate("window.speechSynthesis.msPerChar = 60")
    fake.script(Script(reply=REPLY, first_token_delay=3 if phase == "thinking" else 0))
    stop = page.get_by_test_id("stop")
    mic = page.get_by_test_id("mic")
    expect(stop).to_be_hidden()
    talk(page, "Our onboarding feels heavy." if phase != "listening" else "Our onboarding")
    expect(mic).to_have_attribute("data-state", phase, timeout=5000)
    expect(stop).to_be_visible()
    shot(page, f"17-stop-while-{phase}")
    spoken_before = page.evaluate("window.__spoken.length")
    stop.click()
    expect(mic).to_have_attribute("data-state", "idle")
    expect(stop).to_be_hidden()
    # The microphone is released, and nothing more is said or sent, whatever it hears.
    page.wait_for_function("() => window.__recognition.active === null")
    sent = len(fake.requests_for("chat"))
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__recognition.active") is None
    assert len(fake.requests_for("chat")) == sent
    expect(mic).to_have_attribute("data-state", "idle")
    assert page.evaluate("window.__spoken.length") <= spoken_before + (phase == "speaking")
    assert page.evaluate("window.speechSynthesis.speaking") is False


def test_holding_the_mic_holds_the_floor_through_any_pause(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    storage = {"parley.settings": {"rememberKey": True, "pauseSeconds": 0.6},
               "parley.apiKey": KEY}
    page = open_app(new_page, app_url, storage=storage)
    fake.script(Script(reply=REPLY))
    mic = page.get_by_test_id("mic")
    box = mic.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(mic).to_have_attribute("data-state", "listening", timeout=3000)
    page.wait_for_function(LISTENING)
    page.evaluate("window.__recognition.say('Here is the flow. It has three screens.')")
    page.wait_for_timeout(2000)  # far past the 0.6 s of patience: still the person's turn
    expect(mic).to_have_attribute("data-state", "listening")
    page.evaluate("window.__recognition.say('The last one asks for a card.')")
    page.mouse.up()
    expect(page.locator("[data-testid=message][data-role=user]")).to_have_count(1, timeout=5000)
    said = users(page)
    assert len(said) == 1 and "three screens" in said[0] and "asks for a card" in said[0]
