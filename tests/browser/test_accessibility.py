"""What a screen reader hears, what a keyboard reaches, and what moves, in Chromium.

axe-core's audit of every screen runs in both lanes (flows.accessible_in_the_light/dark);
these check what it cannot: names and live regions as the talk loop changes state, replies
that are read out only when nobody heard them, Tab order inside a sheet, and motion under
prefers-reduced-motion (emulated).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import QUICK
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

REPLY = "Start with the first screen. What do people decide there?"
# Running animations other than the ones a test starts itself.
ANIMATIONS = "() => document.getAnimations().filter((a) => a.playState === 'running').length"


def open_app(new_page: Callable[..., Page], url: str, **kwargs: object) -> Page:
    page = new_page(**kwargs)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    page.wait_for_function("() => document.querySelector('#mic').dataset.available")
    return page


def say(page: Page, words: str) -> None:
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("(w) => window.__recognition.say(w)", words)


def test_the_talk_button_is_named_for_what_a_press_does_and_the_status_says_the_rest(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, server.url, storage=QUICK)
    page.evaluate("() => { window.speechSynthesis.msPerChar = 60; }")  # a reply that takes a while
    fake.script(Script(reply=REPLY, token_delay=0.05))
    status = page.get_by_test_id("status")
    page.get_by_role("button", name="Start talking").click()
    expect(page.get_by_role("button", name="Finish talking")).to_have_attribute(
        "data-state", "listening")
    expect(status).to_have_text("Listening — pause when you're done")
    say(page, "Where do I start")
    expect(page.get_by_role("button", name="Interrupt")).to_have_attribute(
        "data-state", "speaking", timeout=10_000)
    expect(status).to_have_text("Speaking — tap to interrupt")
    # Hands-free: listening again once the reply has been said.
    expect(page.get_by_role("button", name="Finish talking")).to_be_visible(timeout=10_000)
    mic = page.get_by_test_id("mic")
    assert mic.get_attribute("aria-pressed") is None  # a name that changes, not a toggle
    # The live regions: the status line (polite), the transcript as a log that does not
    # chatter while a reply streams, and the announcer.
    assert page.get_by_test_id("status").get_attribute("role") == "status"
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "off")
    expect(log.get_by_test_id("message")).to_have_count(2)
    assert page.locator("#announcer").get_attribute("aria-live") == "polite"


def test_voice_unavailable_is_described_on_the_talk_button(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    page = open_app(new_page, server.url, storage={"parley.settings": {"pauseSeconds": 0.6}},
                    init="delete window.SpeechRecognition; delete window.webkitSpeechRecognition;")
    mic = page.get_by_role("button", name="Start talking")
    expect(mic).to_have_attribute("data-available", "false")
    expect(mic).to_have_accessible_description(
        "This browser can't turn speech into text. You can type instead.")


def test_an_error_interrupts_and_everything_else_waits(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, server.url, storage=QUICK)
    status = page.get_by_test_id("status")
    fake.script(Script(fault="401"))
    page.get_by_test_id("composer").fill("Is this thing on")
    page.get_by_test_id("composer").press("Enter")
    expect(status).to_have_text("OpenAI rejected this API key. Check it in Settings.")
    expect(status).to_have_attribute("aria-live", "assertive")
    fake.script(Script(reply=REPLY))
    page.get_by_role("button", name="Open Settings").click()
    page.get_by_test_id("settings-close").click()
    page.get_by_test_id("composer").fill("Again")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message").last).to_have_attribute("data-pending", "false")
    expect(status).to_have_attribute("aria-live", "polite")


def test_a_reply_heard_aloud_is_not_read_out_again(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, server.url, storage=QUICK)
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Where do I start?")
    page.get_by_test_id("composer").press("Enter")
    page.wait_for_function("() => window.__spoken.length === 2")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.locator("#announcer")).to_have_text("")


def test_a_reply_nobody_heard_is_read_out_when_the_turn_ends(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    # A device without speech output, and the server's voice not chosen: the reply is only
    # on screen, so it is announced.
    settings = {"pauseSeconds": 0.6, "rememberKey": True, "speakWith": "device"}
    page = open_app(new_page, server.url, storage={**QUICK, "parley.settings": settings},
                    init="delete window.speechSynthesis;")
    fake.script(Script(reply=REPLY, token_delay=0.02))
    page.get_by_test_id("composer").fill("Where do I start?")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message").nth(1)).to_have_attribute("data-pending", "false")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.locator("#announcer")).to_have_text(f"Parley: {REPLY}")


def test_a_status_shown_while_a_sheet_is_open_is_shown_in_the_sheet(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, server.url, storage=QUICK, permissions=["clipboard-write"])
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Where do I start?")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message").nth(1)).to_have_attribute("data-pending", "false")
    page.get_by_test_id("export").click()
    page.get_by_test_id("export-copy").click()
    # The page behind a modal sheet is inert: the words are said (and shown) in the sheet.
    sheet_status = page.locator("#export-sheet").get_by_role("status")
    expect(sheet_status).to_have_text("Copied to the clipboard.")
    expect(page.get_by_test_id("status")).to_have_text("Copied to the clipboard.")
    page.keyboard.press("Escape")
    page.get_by_test_id("export").click()
    expect(sheet_status).to_have_text("")  # a sheet opens with nothing left from before


def test_tab_reaches_every_control_in_the_settings_sheet(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    page = open_app(new_page, server.url, storage=QUICK)
    page.get_by_test_id("settings").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#settings-sheet")).to_be_visible()
    # Every visible, enabled control; a radio group is one stop (arrows move within it).
    controls = page.evaluate("""() => {
        const sheet = document.getElementById('settings-sheet');
        const stops = new Set();
        for (const c of sheet.querySelectorAll('button, input, select, textarea')) {
          if (c.disabled || !c.checkVisibility({visibilityProperty: true})
              && c.type !== 'radio') continue;
          if (c.closest('[hidden]')) continue;
          stops.add(c.type === 'radio' ? `radio:${c.name}` : (c.id || c.dataset.testid));
        }
        return [...stops];
    }""")
    reached: set[str] = set()
    for _ in range(len(controls) + 5):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => { const a = document.activeElement;
            return a.type === 'radio' ? `radio:${a.name}` : (a.id || a.dataset.testid); }"""))
    assert set(controls) <= reached, set(controls) - reached
    # The focus stays in the sheet while it is open (it is modal).
    assert page.evaluate("document.getElementById('settings-sheet')"
                         ".contains(document.activeElement)")
    # Arrow keys move within a group, as in any radio group.
    page.locator("input[name=turns][value=hands-free]").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("input[name=turns][value=push-to-talk]")).to_be_checked()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("settings")).to_be_focused()


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_nothing_moves_by_itself_under_reduced_motion(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI, motion: str
) -> None:
    page = open_app(new_page, server.url, storage=QUICK, reduced_motion=motion)
    moving: dict[str, int] = {}
    mic = page.get_by_test_id("mic")
    mic.click()
    expect(mic).to_have_attribute("data-state", "listening")
    moving["listening"] = page.evaluate(ANIMATIONS)
    page.evaluate("() => { window.speechSynthesis.msPerChar = 80; }")  # speaks for a while
    fake.script(Script(reply=REPLY))
    say(page, "Where do I start")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=10_000)
    moving["speaking"] = page.evaluate(ANIMATIONS)
    mic.click()  # barge in: listening again
    expect(mic).to_have_attribute("data-state", "listening")
    page.get_by_test_id("settings").click()
    expect(page.locator("#settings-sheet")).to_be_visible()
    moving["sheet"] = page.evaluate(ANIMATIONS)
    scroll = page.evaluate("getComputedStyle(document.getElementById('conversation'))"
                           ".scrollBehavior")
    if motion == "reduce":
        assert moving == {"listening": 0, "speaking": 0, "sheet": 0}
        assert scroll == "auto"
    else:
        # The control: the same moments do move without the preference.
        assert moving["listening"] > 0 and moving["speaking"] > 0
        assert scroll == "smooth"
