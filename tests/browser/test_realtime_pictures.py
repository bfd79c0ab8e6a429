"""Pictures in a realtime call, at an iPhone viewport: Chromium against the fake Realtime peer.

A picture attached during a call goes into it at once (one `conversation.item.create` with an
`input_image` part each, downscaled to fit a data channel message), shows with the person's
turn, is kept with the thread (IndexedDB) through a reload and into an export; a model that
can't see says so in the status line.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import axe
from tests.browser.conftest import shot
from tests.browser.test_realtime import (  # the fixtures, shared with the other call tests
    ON_A_CALL,
    app_url,
    call,
    open_app,
    realtime,
    received,
    stored_turns,
)
from tests.fakes.realtime_peer import FakeRealtimePeer
from tests.images.pictures import phone_photo, ui_screenshot
from tests.live import LiveServer

__all__ = ["app_url", "realtime"]

pytestmark = pytest.mark.browser

QUESTION = "What do you think of this sign-up screen?"
IN_THE_CALL = "Picture sent into the call: talk about it."


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pictures") / "signup.jpg"
    path.write_bytes(phone_photo())  # 4032x3024 turned by EXIF, with GPS
    return path


def screenshots(folder: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        path = folder / f"screen-{index}.png"
        path.write_bytes(ui_screenshot(640 + index, 400))
        paths.append(str(path))
    return paths


def pictures_sent(realtime: FakeRealtimePeer) -> list[dict[str, Any]]:
    """The items the page created that carry a picture."""
    return [e["item"] for e in received(realtime, "conversation.item.create")
            if any(p.get("type") == "input_image" for p in e["item"]["content"])]


def audited(page: Page, screen: str) -> None:
    page.evaluate(axe.SETTLED)
    found = axe.violations(page.evaluate(axe.RUN), screen)
    assert found == [], "\n".join(str(v) for v in found)


def test_a_photo_attached_in_a_call_goes_into_it_and_stays_with_the_thread(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer, photo: Path
) -> None:
    realtime.script(describe_images=True, delta_delay=0.05)
    page = open_app(new_page, app_url, init=axe.axe_source())
    call(page)
    page.get_by_test_id("attach-input").set_input_files(str(photo))

    # Into the call at once: one item, one picture, a real JPEG downscaled on the phone.
    assert realtime.wait_for(lambda: len(realtime.images) == 1)
    (item,) = pictures_sent(realtime)
    assert item["role"] == "user" and item["type"] == "message"
    (part,) = item["content"]
    assert set(part) == {"type", "image_url"}
    (seen,) = realtime.images
    picture = seen.image()
    assert seen.media_type == "image/jpeg" and picture.format == "JPEG"
    assert max(picture.size) <= 2048
    assert picture.height > picture.width  # stood up by its EXIF orientation
    assert not picture.getexif()  # no GPS left in it
    assert len(json.dumps({"type": "conversation.item.create", "item": item})) < 256 * 1024
    # The model looks when it next answers: the picture itself asks for nothing.
    assert received(realtime, "response.create") == []

    # It shows in the transcript at once, as the start of the person's next turn.
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(1)
    expect(messages.nth(0)).to_have_attribute("data-role", "user")
    expect(messages.nth(0).get_by_test_id("message-image")).to_have_count(1)
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    expect(page.get_by_test_id("status")).to_have_text(IN_THE_CALL)

    # The person's words join that turn; the answer is about the one picture.
    realtime.start_user_turn(QUESTION)
    reply = messages.nth(1)
    expect(reply).to_have_attribute("data-role", "assistant", timeout=5000)
    expect(reply.locator(".text")).to_have_text(
        f"I see 1 image: a {picture.width}x{picture.height} JPEG. What should we look at first?",
        timeout=5000)
    expect(messages.nth(0).locator(".text")).to_have_text(QUESTION)
    expect(messages).to_have_count(2)
    shot(page, "28-realtime-picture")
    audited(page, "chromium-light-call-with-a-picture")
    (user, answer) = stored_turns(page)
    assert user["content"] == QUESTION and len(user["images"]) == 1
    assert answer["role"] == "assistant" and "images" not in answer
    page.get_by_test_id("hang-up").click()
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")

    # Kept on the device with the thread: after a reload, and in the export.
    page.reload()
    image = page.get_by_test_id("message-image")
    expect(image).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=message-image]').naturalWidth > 0")
    page.get_by_test_id("export").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    exported = json.loads(Path(download.value.path()).read_text())
    (with_picture,) = [t for t in exported["turns"] if t.get("images")]
    assert with_picture["content"] == QUESTION
    head, encoded = with_picture["images"][0].split(",", 1)
    assert head == "data:image/jpeg;base64"
    kept = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert max(kept.size) == 2048  # the thread keeps the picture as sent step by step


def test_a_turn_in_a_call_takes_four_pictures_and_the_next_waits(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer, tmp_path: Path
) -> None:
    realtime.script(describe_images=True, delta_delay=0.05)
    page = new_page(storage=ON_A_CALL, init=axe.axe_source(), color_scheme="dark")
    page.goto(app_url)
    call(page)
    first, *others, fifth = screenshots(tmp_path, 5)
    picker = page.get_by_test_id("attach-input")
    picker.set_input_files(first)
    assert realtime.wait_for(lambda: len(realtime.images) == 1)
    picker.set_input_files(others)
    assert realtime.wait_for(lambda: len(realtime.images) == 4)
    picker.set_input_files(fifth)
    status = page.get_by_test_id("status")
    expect(status).to_have_text("Up to 4 pictures a turn: talk about these first.")
    expect(status).to_have_attribute("data-tone", "error")
    expect(page.get_by_test_id("attachment")).to_have_count(1)  # waiting in the composer
    messages = page.get_by_test_id("message")
    expect(messages.nth(0).get_by_test_id("message-image")).to_have_count(4)
    # Small screenshots go as the PNGs they are, one item each.
    assert [p.media_type for p in realtime.images] == ["image/png"] * 4
    assert [len(i["content"]) for i in pictures_sent(realtime)] == [1, 1, 1, 1]
    audited(page, "chromium-dark-call-with-pictures")
    shot(page, "29-realtime-four-pictures-dark")

    # Once the person has spoken, the turn is over and the fifth goes, in a turn of its own
    # (before or after the answer, as they race).
    realtime.start_user_turn("Which of these flows is clearer?")
    expect(page.locator("[data-testid=message][data-role=assistant] .text")).to_have_text(
        "I see 4 images: a 640x400 PNG, a 641x400 PNG, a 642x400 PNG and a 643x400 PNG. "
        "What should we look at first?", timeout=5000)
    assert realtime.wait_for(lambda: len(realtime.images) == 5)
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    expect(messages).to_have_count(3)
    user_turns = page.locator("[data-testid=message][data-role=user]")
    expect(user_turns.nth(0).locator(".text")).to_have_text("Which of these flows is clearer?")
    expect(user_turns.nth(1).get_by_test_id("message-image")).to_have_count(1)
    expect(user_turns.nth(1).locator(".text")).to_have_text("")
    images = [len(t.get("images", [])) for t in stored_turns(page) if t["role"] == "user"]
    assert images == [4, 1]
    page.get_by_test_id("hang-up").click()


def test_a_model_that_cannot_see_says_so_and_the_picture_waits(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer],
    realtime: FakeRealtimePeer, tmp_path: Path,
) -> None:
    server = serve(openai_base_url=realtime.base_url, realtime_model="gpt-4o-realtime-preview")
    page = open_app(new_page, server.url)
    call(page)
    page.get_by_test_id("attach-input").set_input_files(screenshots(tmp_path, 1))
    status = page.get_by_test_id("status")
    expect(status).to_have_text("gpt-4o-realtime-preview can't see pictures. Describe it, "
                                "or send it step by step after the call.")
    expect(status).to_have_attribute("data-tone", "error")
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    expect(page.get_by_test_id("message")).to_have_count(0)
    shot(page, "30-realtime-cannot-see")
    # Typed words still go into the call; the picture stays for a step-by-step turn.
    page.get_by_test_id("composer").fill("Can you hear me?")
    page.get_by_test_id("send").click()
    assert realtime.wait_for_event("response.create") is not None
    assert pictures_sent(realtime) == []
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    page.get_by_test_id("hang-up").click()


def test_a_picture_waiting_when_a_call_starts_goes_in_once_it_connects(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer, tmp_path: Path
) -> None:
    page = open_app(new_page, app_url)
    page.get_by_test_id("attach-input").set_input_files(screenshots(tmp_path, 1))
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    assert realtime.calls == []
    call(page)
    assert realtime.wait_for(lambda: len(realtime.images) == 1)
    expect(page.get_by_test_id("attachment")).to_have_count(0)
    expect(page.get_by_test_id("message-image")).to_have_count(1)
    expect(page.get_by_test_id("status")).to_have_text(IN_THE_CALL)
    # Typed words join the turn that shows it, and the model answers out loud.
    page.get_by_test_id("composer").fill("Is the hierarchy clear?")
    page.get_by_test_id("send").click()
    assert realtime.wait_for_event("response.create") is not None
    messages = page.get_by_test_id("message")
    expect(messages.nth(0).locator(".text")).to_have_text("Is the hierarchy clear?")
    expect(messages.nth(0).get_by_test_id("message-image")).to_have_count(1)
    types = [e["type"] for e in realtime.received_events]
    assert types == ["conversation.item.create"] * 2 + ["response.create"]
    page.get_by_test_id("hang-up").click()
