"""Server history in the browser: the same owner sees a conversation on another device."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer
from tests.storage.databases import create_postgres_database, drop_postgres_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

KEY = "sk-proj-HISTORYcanary0123456789abcdef"
REPLY = "Start with the first screen. What do people decide there?"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        url = pool.submit(create_postgres_database).result()
        yield url
        pool.submit(drop_postgres_database, url).result()


def wait_for(check: Callable[[], list[Any]], seconds: float = 10.0) -> list[Any]:
    """Poll until `check` finds something (the page writes to the server in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing found within {seconds} s")


def device_storage(secret: str) -> dict[str, object]:
    return {
        "parley.settings": {"pauseSeconds": 0.6, "serverHistory": True},
        "parley.apiKey": KEY,
        "parley.device": secret,
    }


def test_a_conversation_follows_its_owner_to_another_browser(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer], fake: FakeOpenAI,
    postgres_url: str,
) -> None:
    server = serve(database_url=postgres_url, database_migrate_on_start=True)
    mine, theirs = secrets.token_hex(32), secrets.token_hex(32)

    first = new_page(storage=device_storage(mine))
    first.goto(server.url)
    fake.script(Script(reply=REPLY))
    first.get_by_test_id("composer").fill("Our checkout has five steps")
    first.get_by_test_id("send").click()
    expect(first.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    expect(first.get_by_test_id("message").nth(1)).to_have_attribute("data-pending", "false")
    sent = fake.requests_for("chat")[0]
    assert sent.api_key == KEY

    # Another browser, same owner (the same device secret): the conversation is there.
    second = new_page(storage=device_storage(mine))
    second.goto(server.url)
    second.get_by_test_id("history-open").click()
    listed = second.get_by_test_id("history").locator("li")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("Our checkout has five steps")
    expect(listed.first).to_contain_text("from another device")
    shot(second, "13-history-from-the-server")
    listed.first.locator(".open").click()
    messages = second.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("Our checkout has five steps")
    expect(messages.nth(1)).to_contain_text(REPLY)

    # A third browser with another owner sees nothing of it.
    third = new_page(storage=device_storage(theirs))
    third.goto(server.url)
    third.get_by_test_id("history-open").click()
    expect(third.locator("#history-empty")).to_be_visible()
    expect(third.get_by_test_id("history").locator("li")).to_have_count(0)

    # Deleting it on the second browser deletes it on the server too.
    second.on("dialog", lambda dialog: dialog.accept())
    second.get_by_test_id("history-open").click()
    second.get_by_test_id("history").locator("li").first.get_by_role(
        "button", name="Delete"
    ).click()
    expect(second.get_by_test_id("history").locator("li")).to_have_count(0)
    first.reload()
    first.get_by_test_id("history-open").click()
    # The first browser still has its own copy; the server no longer lists it elsewhere.
    fourth = new_page(storage=device_storage(mine))
    fourth.goto(server.url)
    fourth.get_by_test_id("history-open").click()
    expect(fourth.locator("#history-empty")).to_be_visible()


def test_a_project_and_its_brief_follow_their_owner(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer], fake: FakeOpenAI,
    postgres_url: str,
) -> None:
    server = serve(database_url=postgres_url, database_migrate_on_start=True)
    mine = secrets.token_hex(32)
    first = new_page(storage=device_storage(mine))
    first.goto(server.url)
    # A project of its own, and a turn that fills in its brief.
    first.get_by_test_id("project").click()
    first.get_by_test_id("project-name").fill("Checkout redesign")
    first.get_by_test_id("project-create").click()
    expect(first.get_by_test_id("project")).to_contain_text("Checkout redesign")
    decided = ('{"title":"Checkout","sections":{"problem":[],"audience":[],"constraints":[],'
               '"decisions":[{"text":"Guest checkout is the default","turn":0}],"ideas":[],'
               '"openQuestions":[],"nextSteps":[]},"conflicts":[],"retracted":[]}')
    fake.script(Script(reply=decided), "brief")
    fake.script(Script(reply=REPLY))
    first.get_by_test_id("composer").fill("Guest checkout should be the default")
    first.get_by_test_id("send").click()
    expect(first.locator("#brief-count")).to_have_text("1", timeout=10_000)
    # Kept on the server in that project, with the brief (sent a moment after it changes).
    kept = wait_for(lambda: [p for p in httpx.get(
        f"{server.url}/api/projects", headers={"X-Parley-Device": mine}).json()["projects"]
        if p["brief"]["sections"]["decisions"]])
    assert kept[0]["title"] == "Checkout redesign" and len(kept[0]["sessionIds"]) == 1
    second = new_page(storage=device_storage(mine))
    second.goto(server.url)
    second.get_by_test_id("project").click()
    projects = second.get_by_test_id("projects")
    expect(projects).to_contain_text("Checkout redesign", timeout=10_000)
    expect(projects).to_contain_text("1 item in the brief")
    projects.get_by_role("button", name="Checkout redesign").click()
    expect(second.get_by_test_id("project")).to_contain_text("Checkout redesign")
    expect(second.locator("#brief-count")).to_have_text("1")
    second.get_by_test_id("history-open").click()
    listed = second.get_by_test_id("history").locator("li")
    expect(listed.first).to_contain_text("Checkout redesign")
    expect(listed.first).to_contain_text("from another device")
