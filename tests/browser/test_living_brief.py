"""The living brief in the browser, at an iPhone viewport: it fills in as a designer talks,
carries into the project's next conversation, notes a clash, and never holds up speech."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.flows import KEY
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

HANDS_FREE: dict[str, object] = {"parley.settings": {"pauseSeconds": 0.6}}


def open_app(new_page: Callable[..., Page], url: str, storage: dict[str, object]) -> Page:
    page = new_page(storage=storage)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    page.wait_for_function("() => document.querySelector('#mic').dataset.available === 'true'")
    return page


def say(page: Page, words: str) -> None:
    """Say a turn hands-free: tap the mic if the loop is not listening already."""
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", re.compile("idle|listening"), timeout=20_000)
    if mic.get_attribute("data-state") == "idle":
        mic.click()
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("(w) => window.__recognition.say(w)", words)


def replies(page: Page) -> int:
    count: int = page.locator("[data-testid=message][data-role=assistant]:not("
                              "[data-pending=true])").count()
    return count


def wait_for_reply(page: Page, count: int) -> None:
    expect(page.locator("[data-testid=message][data-role=assistant][data-pending=false]")
           ).to_have_count(count, timeout=20_000)


def items(page: Page, section: str) -> list[str]:
    found: list[str] = page.locator(
        f"[data-testid=brief-item][data-section={section}] .brief-text").all_inner_texts()
    return found


@pytest.fixture(scope="module")
def offline() -> Iterator[LiveServer]:
    """The offline stack: the design notes answer, the brief's rules read the turns."""
    from parley.config import Settings

    settings = Settings(local_model="auto", local_stt="off", local_tts="off",
                        openai_base_url="http://127.0.0.1:9/v1")
    with LiveServer(settings) as live:
        yield live


@pytest.mark.local_model
def test_the_brief_fills_in_carries_over_and_notes_a_clash(
    new_page: Callable[..., Page], offline: LiveServer
) -> None:
    page = open_app(new_page, offline.url, HANDS_FREE)
    turns = [
        "We're redesigning onboarding for a student budgeting app. People drop off at the "
        "income step.",
        "Let's never ask for income before they see any value.",
        "I'm not sure whether to show a sample budget first.",
    ]
    for number, words in enumerate(turns, start=1):
        say(page, words)
        wait_for_reply(page, number)
    # The count on the Brief button follows the panel, which fills in by itself.
    expect(page.locator("#brief-count")).to_have_text("3", timeout=10_000)
    page.get_by_test_id("brief").click()
    panel = page.get_by_test_id("brief-panel")
    expect(panel).to_be_visible()
    assert items(page, "problem") == ["People drop off at the income step."]
    assert items(page, "decisions") == ["Let's never ask for income before they see any value."]
    assert items(page, "openQuestions") == ["I'm not sure whether to show a sample budget first."]
    shot(page, "30-living-brief")
    # An item shows where it was said.
    panel.locator("[data-section=decisions] .brief-text").click()
    expect(page.locator("#brief-sheet")).not_to_have_attribute("open", "")
    expect(page.locator("[data-testid=message].found")).to_contain_text("never ask for income")
    page.get_by_test_id("stop").click()

    # A new conversation in the same project starts with what was decided.
    page.get_by_test_id("new-conversation").click()
    expect(page.get_by_test_id("message")).to_have_count(0)
    expect(page.locator("#brief-count")).to_have_text("3")
    say(page, "Okay, let's ask for income up front.")
    wait_for_reply(page, 1)
    page.get_by_test_id("brief").click()
    conflict = page.get_by_test_id("brief-conflict")
    expect(conflict).to_contain_text("never ask for income before they see any value")
    expect(conflict).to_contain_text("ask for income up front")
    assert len(items(page, "decisions")) == 2  # noted, not resolved for the person
    shot(page, "31-brief-clash")
    page.keyboard.press("Escape")
    # The next reply says so, once.
    say(page, "What should the first screen show?")
    wait_for_reply(page, 2)
    expect(page.locator("[data-testid=message][data-role=assistant]").nth(1)).to_contain_text(
        "That goes against what you decided earlier")
    page.get_by_test_id("stop").click()
    # Still there after a reload: the project keeps it on the device.
    page.reload()
    expect(page.locator("#brief-count")).to_have_text("5")  # the question was one too


def test_an_item_can_be_edited_and_removed_and_is_text_not_html(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    html = "<img src=x onerror=\"window.__owned=1\"> income <b>later</b>"
    empty = ("problem", "audience", "constraints", "openQuestions", "nextSteps")
    sections: dict[str, list[object]] = {key: [] for key in empty}
    answer = {"title": "Budgeting", "conflicts": [], "retracted": [], "sections": {
        **sections, "decisions": [{"text": html, "turn": 0}],
        "ideas": [{"text": "A sample budget first", "turn": 0}]}}
    fake.script(Script(reply=json.dumps(answer)), "brief")
    page = open_app(new_page, server.url, {**HANDS_FREE, "parley.apiKey": KEY,
                                           "parley.settings": {"pauseSeconds": 0.6,
                                                               "turns": "push-to-talk"}})
    page.get_by_test_id("composer").fill("Income, when?")
    page.get_by_test_id("send").click()
    expect(page.locator("#brief-count")).to_have_text("2", timeout=10_000)
    page.get_by_test_id("brief").click()
    decision = page.locator("[data-testid=brief-item][data-section=decisions]")
    expect(decision.locator(".brief-text")).to_have_text(html)  # shown as text
    assert page.evaluate("window.__owned") is None
    decision.get_by_role("button", name="Edit").click()
    field = decision.get_by_role("textbox")
    field.fill("Ask for income after the sample budget")
    field.press("Enter")
    expect(decision.locator(".brief-text")).to_have_text("Ask for income after the sample budget")
    page.locator("[data-testid=brief-item][data-section=ideas]").get_by_role(
        "button", name="Remove").click()
    expect(page.locator("[data-testid=brief-item][data-section=ideas]")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#brief-count")).to_have_text("1")
    # Markdown comes from the structured brief.
    page.get_by_test_id("brief").click()
    with page.expect_download() as download:
        page.get_by_test_id("brief-download").click()
    markdown = Path(download.value.path()).read_text("utf-8")
    assert markdown.startswith("# Budgeting\n")
    assert "## Decisions\n- Ask for income after the sample budget\n" in markdown
    assert "## Ideas\n- Not discussed yet." in markdown


def test_speech_starts_while_a_brief_update_is_in_flight(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    # The first update takes its time upstream; the second turn is spoken meanwhile.
    fake.script(Script(first_token_delay=6.0), "brief")
    page = open_app(new_page, server.url, {"parley.settings": {"pauseSeconds": 0.6},
                                           "parley.apiKey": KEY})
    say(page, "People drop off at the income step.")
    wait_for_reply(page, 1)
    fake.script(Script(reply="Show the value first. What would they see?", token_delay=0.02))
    say(page, "So what do we show first?")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "speaking",
                                                         timeout=10_000)
    # The update that started after the first reply has not been answered yet.
    assert len(fake.requests_for("brief")) == 1
    assert fake.stats("brief").open == 1, "the brief update should still be in flight"


def test_each_project_keeps_its_own_brief(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    answer = {"title": "Budgeting", "conflicts": [], "retracted": [], "sections": {
        "problem": [{"text": "Students drop off at income", "turn": 0}], "audience": [],
        "constraints": [], "decisions": [], "ideas": [], "openQuestions": [], "nextSteps": []}}
    fake.script(Script(reply=json.dumps(answer)), "brief")
    page = open_app(new_page, server.url, {"parley.apiKey": KEY,
                                           "parley.settings": {"pauseSeconds": 0.6}})
    page.get_by_test_id("composer").fill("Students drop off at income")
    page.get_by_test_id("send").click()
    expect(page.locator("#brief-count")).to_have_text("1", timeout=10_000)
    # A new project starts empty, with a conversation of its own.
    page.get_by_test_id("project").click()
    page.get_by_test_id("project-name").fill("Museum kiosk")
    page.get_by_test_id("project-create").click()
    expect(page.get_by_test_id("project")).to_contain_text("Museum kiosk")
    expect(page.locator("#brief-count")).to_have_text("")
    expect(page.get_by_test_id("message")).to_have_count(0)
    # Back to the first: its brief and its latest conversation.
    page.get_by_test_id("project").click()
    projects = page.get_by_test_id("projects")
    expect(projects.locator("li")).to_have_count(2)
    shot(page, "32-projects")
    projects.get_by_role("button", name="My project").click()
    expect(page.locator("#brief-count")).to_have_text("1")
    expect(page.get_by_test_id("message").first).to_contain_text("Students drop off at income")
