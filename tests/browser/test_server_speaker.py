"""Server voices (js/voice/server-speaker.js): one sentence synthesised ahead, no more.

The page's audio output is the one fake here: `play()` starts at once and a sentence ends
only when the test says so, so "while sentence one plays" is a state the test holds rather
than a race with the audio's length. Which sentences the page asked the server to speak is
noted as it asks (the request may reach the fake OpenAI a moment later); at the end the fake
has received exactly those.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

KEY = "sk-proj-SPEAKERcanary0123456789abcdefXYZ"
SENTENCES = ["Start with the money.", "Then the goal.", "Then one question.",
             "Leave the rest for later."]
# Audio that plays until finished from the test: window.__finish() ends the one playing.
AUDIO_OUTPUT = """
window.__playing = [];
// Nothing reaches the media pipeline: a source is only noted, and play() starts at once.
Object.defineProperty(HTMLMediaElement.prototype, "src", {
  configurable: true,
  get() { return this.__src || ""; },
  set(value) { this.__src = value; },
});
Object.defineProperty(HTMLMediaElement.prototype, "duration", { get() { return 60; } });
HTMLMediaElement.prototype.play = function () {
  window.__playing.push(this);
  return Promise.resolve();
};
window.__finish = () => window.__playing.at(-1).dispatchEvent(new Event("ended"));
window.__asked = [];
const realFetch = window.fetch;
window.fetch = function (url, init) {
  if (String(url).endsWith("/api/speech")) window.__asked.push(JSON.parse(init.body).text);
  return realFetch.apply(this, arguments);
};
"""


def open_app(new_page: Callable[..., Page], url: str) -> Page:
    page = new_page(storage={"parley.settings": {"speakWith": "server", "rememberKey": True},
                             "parley.apiKey": KEY}, init=AUDIO_OUTPUT)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    return page


def reply_playing(new_page: Callable[..., Page], url: str, fake: FakeOpenAI) -> Page:
    """A typed turn whose reply has fully arrived while its first sentence plays."""
    page = open_app(new_page, url)
    fake.script(Script(reply=" ".join(SENTENCES)))
    page.get_by_test_id("composer").fill("Where do I start?")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message").nth(1)).to_have_attribute("data-pending", "false",
                                                                     timeout=10_000)
    page.wait_for_function("() => window.__playing.length >= 2")  # the unlock, then sentence one
    return page


def asked(page: Page) -> list[str]:
    """The sentences the page has asked the server to speak, in order."""
    said: list[str] = page.evaluate("window.__asked")
    return said


def synthesised(fake: FakeOpenAI) -> list[str]:
    return [r.json["input"] for r in fake.requests_for("speech")]


def test_one_sentence_is_synthesised_while_another_plays(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = reply_playing(new_page, server.url, fake)
    # The whole reply has arrived while sentence one still plays: only sentence two is
    # synthesised ahead of it, not the whole reply.
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "speaking")
    assert asked(page) == SENTENCES[:2]
    # Sentence one ends: two plays and three is asked for (before two starts); and so on.
    for played in range(1, len(SENTENCES)):
        page.evaluate("window.__finish()")
        page.wait_for_function(f"() => window.__playing.length >= {played + 2}")
        assert asked(page) == SENTENCES[:min(played + 2, len(SENTENCES))]
    page.evaluate("window.__finish()")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    assert synthesised(fake) == SENTENCES  # each one reached the server once


def test_a_barge_in_throws_away_at_most_one_sentence_of_audio(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = reply_playing(new_page, server.url, fake)
    page.get_by_test_id("mic").click()  # barge in while sentence one plays
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "listening")
    assert asked(page) == SENTENCES[:2]
