"""Speech output never hangs the talk loop (js/voice/speaker.js), with engines that lose `end`.

The scripted speechSynthesis (speech_fakes.js) is told to misbehave as real engines do:
`hangOn` starts one utterance and never ends it (iOS Safari after a route change; the engine
stays `speaking` until cancel()), `webkitQuirk` never ends an utterance handed over while
another is speaking or inside its `end` (WebKitGTK).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import QUICK
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SENTENCES = ["Start small.", "Keep the first screen quiet.", "Then ask one question."]


def open_app(new_page: Callable[..., Page], url: str, synth: str) -> Page:
    page = new_page(storage=QUICK)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    page.evaluate(f"() => Object.assign(window.speechSynthesis, {synth})")
    return page


def send(page: Page, fake: FakeOpenAI, words: str) -> None:
    fake.script(Script(reply=" ".join(SENTENCES)))
    page.get_by_test_id("composer").fill(words)
    page.get_by_test_id("composer").press("Enter")


def spoken(page: Page) -> list[str]:
    return [item["text"] for item in page.evaluate("window.__spoken")]


def test_an_utterance_whose_end_never_comes_is_cancelled_and_the_reply_goes_on(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, server.url, f"{{hangOn: {SENTENCES[1]!r}}}")
    send(page, fake, "Where do I start?")
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=10_000)
    # The second sentence starts and never ends; the engine says it is still speaking...
    page.wait_for_function(f"() => window.__speechLog.includes('stuck:{SENTENCES[1]}')")
    assert page.evaluate("window.speechSynthesis.speaking") is True
    # ...past its deadline Parley cancels it, speaks the rest, and the loop goes back to idle.
    page.wait_for_function("() => window.__spoken.length === 3", timeout=15_000)
    expect(mic).to_have_attribute("data-state", "idle", timeout=10_000)
    assert spoken(page) == SENTENCES
    log = page.evaluate("window.__speechLog")
    assert log.index(f"stuck:{SENTENCES[1]}") < log.index("synthesis.cancel") \
        < log.index(f"speak:{SENTENCES[2]}")
    expect(page.get_by_test_id("status")).to_have_text("")


def test_sentences_are_handed_over_one_at_a_time_after_each_end(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    # An engine that never ends what it is given while busy or inside an `end`: Parley's own
    # queue gives it nothing then, so every sentence ends by itself and nothing is cancelled.
    page = open_app(new_page, server.url, "{webkitQuirk: true}")
    send(page, fake, "Where do I start?")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "speaking",
                                                          timeout=10_000)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle", timeout=10_000)
    assert spoken(page) == SENTENCES
    log = page.evaluate("window.__speechLog")
    assert not [entry for entry in log if entry.startswith("stuck:")], log
    assert "synthesis.cancel" not in log


def test_the_deadline_grows_with_the_sentence_and_shrinks_with_the_rate(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    page = open_app(new_page, server.url, "{}")
    deadlines = page.evaluate("""async () => {
        const { deadlineMs } = await import('./js/voice/speaker.js');
        const long = 'word '.repeat(40);
        return [deadlineMs('Yes.', 1), deadlineMs(long, 1), deadlineMs(long, 1.5)];
    }""")
    short, long, faster = deadlines
    assert short < long and faster < long
