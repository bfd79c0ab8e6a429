"""Showing Parley a picture, at an iPhone viewport: attach a photo, talk about it, and it goes
upstream re-encoded, shows in the transcript, survives a reload, is exported, and is deleted
with the conversation."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, shot
from tests.browser.test_web_app import KEY, open_app, talk
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.images.pictures import phone_photo, ui_screenshot
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SETTINGS = {"parley.settings": {"rememberKey": True, "pauseSeconds": 0.6},
            "parley.apiKey": KEY}


@pytest.fixture
def app_url(server: LiveServer) -> str:
    return server.url


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pictures") / "signup.jpg"
    path.write_bytes(phone_photo())  # 12 megapixels, with GPS
    return path


def stored_pictures(page: Page, conversation: str) -> int:
    count: int = page.evaluate(
        "(id) => import('/js/pictures.js').then((m) => m.count(id))", conversation)
    return count


def test_a_photo_shown_and_talked_about(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI, photo: Path
) -> None:
    page = open_app(new_page, app_url, storage=SETTINGS)
    fake.script(Script(describe_images=True))
    page.get_by_test_id("attach-input").set_input_files(str(photo))
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    shot(page, "18-picture-attached")
    # Talk about it: the next spoken turn carries the picture.
    talk(page, "What do you think of this sign-up screen?")
    reply = page.locator("[data-testid=message][data-role=assistant]").first
    expect(reply).to_contain_text("I see 1 image", timeout=10000)
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    (sent,) = fake.requests_for("chat")
    (part,) = sent.images
    picture = part.image()
    assert max(picture.size) <= 2048 and not picture.getexif()
    assert part.data is not None and len(part.data) < 500_000
    turn_parts = sent.json["messages"][-1]["content"]
    assert [p["text"] for p in turn_parts if p["type"] == "text"] == [
        "What do you think of this sign-up screen?"]
    image = page.get_by_test_id("message-image")
    expect(image).to_have_count(1)
    shot(page, "19-picture-in-the-transcript")

    # It survives a reload: kept on the device with the conversation.
    conversation = page.evaluate("localStorage.getItem('parley.current')")
    page.reload()
    expect(page.get_by_test_id("message-image")).to_have_count(1)
    assert page.evaluate("document.querySelector('[data-testid=message-image]').naturalWidth") > 0

    # Exported inside the JSON, as a data URL.
    page.get_by_test_id("export").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    exported = json.loads(Path(download.value.path()).read_text())
    (with_picture,) = [t for t in exported["turns"] if t.get("images")]
    head, encoded = with_picture["images"][0].split(",", 1)
    assert head == "data:image/jpeg;base64" and len(base64.b64decode(encoded)) > 10_000
    page.keyboard.press("Escape")

    # Deleted with the conversation.
    assert stored_pictures(page, conversation) == 1
    page.get_by_test_id("history-open").click()
    page.locator(".history .delete").first.click()
    page.wait_for_function(
        "(id) => import('/js/pictures.js').then((m) => m.count(id)).then((n) => n === 0)",
        arg=conversation)


def test_the_browser_downscales_a_phone_photo_before_sending(
    new_page: Callable[..., Page], app_url: str, photo: Path
) -> None:
    page = open_app(new_page, app_url, storage=SETTINGS)
    result = page.evaluate("""async (bytes) => {
        const file = new File([new Uint8Array(bytes)], "photo.jpg", {type: "image/jpeg"});
        const { prepare } = await import("/js/pictures.js");
        const done = await prepare(file);
        return { ms: done.ms, bytes: done.blob.size, width: done.width, height: done.height,
                 type: done.type };
    }""", list(photo.read_bytes()))
    assert result["type"] == "image/jpeg"
    assert max(result["width"], result["height"]) == 2048
    assert result["height"] > result["width"]  # stood up by its EXIF orientation
    assert result["bytes"] < photo.stat().st_size / 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {"source_bytes": photo.stat().st_size, **result}
    # The figures (time and bytes) are kept for docs/performance.md; no threshold here.
    (ARTIFACTS / "picture-downscale.json").write_text(json.dumps(figures, indent=2))


def test_a_screenshot_can_be_removed_before_sending(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    page = open_app(new_page, app_url, storage=SETTINGS)
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(ui_screenshot(640, 400))
    page.get_by_test_id("attach-input").set_input_files(str(screenshot))
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    page.get_by_role("button", name="Remove this picture").click()
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    page.get_by_test_id("composer").fill("How should the settings be grouped?")
    page.get_by_test_id("send").click()
    # The reply's message shows (pending) before the request reaches the fake: wait for the
    # answer itself, or the fake may not have been asked yet.
    reply = page.locator("[data-testid=message][data-role=assistant]")
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-pending", "false")
    (sent,) = fake.requests_for("chat")
    assert sent.images == []
