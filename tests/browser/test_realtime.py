"""Realtime calls from the web app: Chromium's fake microphone against the aiortc Realtime peer."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.fakes.realtime_peer import (
    DEFAULT_ASSISTANT_TEXT,
    DEFAULT_SECOND_ASSISTANT_TEXT,
    DEFAULT_USER_TRANSCRIPT,
    FakeRealtimePeer,
)
from tests.live import LiveServer

pytestmark = pytest.mark.browser

KEY = "sk-proj-REALTIMEbrowser0123456789abcdefXY"
ON_A_CALL = {"parley.settings": {"style": "realtime", "rememberKey": True},
             "parley.apiKey": KEY}

# Watches what the app does with WebRTC and the microphone, without hooks in the app.
OBSERVE = """
window.__rtc = { pcs: [], streams: [], constraints: [] };
const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) { super(...args); window.__rtc.pcs.push(this); }
};
const nativeGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  window.__rtc.constraints.push(constraints);
  const stream = await nativeGetUserMedia(constraints);
  window.__rtc.streams.push(stream);
  return stream;
};
"""
DENY_MIC = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""
EVERYTHING_STOPPED = """() => {
  const { pcs, streams } = window.__rtc;
  const senders = pcs.flatMap((pc) => pc.getSenders()).filter((s) => s.track);
  return {
    pcs: pcs.map((pc) => pc.connectionState),
    senders: senders.map((s) => s.track.readyState),
    mic: streams.flatMap((s) => s.getTracks()).map((t) => t.readyState),
  };
}"""


@pytest.fixture
def realtime() -> Iterator[FakeRealtimePeer]:
    with FakeRealtimePeer() as peer:
        peer.script(start_delay=None)  # each test says when the person talks
        yield peer


@pytest.fixture
def app_url(serve: Callable[..., LiveServer], realtime: FakeRealtimePeer) -> str:
    # Secrets are minted from the fake, and the page's CSP lets it post the SDP there.
    return serve(openai_base_url=realtime.base_url).url


def open_app(new_page: Callable[..., Page], url: str, *, storage: dict[str, Any] | None = None,
             init: str = OBSERVE) -> Page:
    page = new_page(storage=ON_A_CALL if storage is None else storage, init=init)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    return page


def call(page: Page) -> None:
    """Tap the talk button and wait until the model listens."""
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("aria-label", "Start a realtime call")
    mic.click()
    expect(mic).to_have_attribute("data-state", "listening", timeout=10000)


def while_parley_speaks(new_page: Callable[..., Page], url: str,
                        realtime: FakeRealtimePeer) -> Page:
    """A call in which the person has spoken and the model is slowly answering."""
    realtime.script(delta_delay=0.4)
    page = open_app(new_page, url)
    call(page)
    realtime.start_user_turn()
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "speaking", timeout=5000)
    return page


def stored_turns(page: Page) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = page.evaluate(
        "JSON.parse(localStorage.getItem('parley.' + localStorage.getItem('parley.current')))"
        ".turns")
    return turns


def received(realtime: FakeRealtimePeer, kind: str) -> list[dict[str, Any]]:
    return [e for e in realtime.received_events if e.get("type") == kind]


def test_a_call_puts_both_transcripts_in_the_conversation(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    realtime.script(delta_delay=0.3)
    page = open_app(new_page, app_url)
    expect(page.locator("#welcome-note")).to_contain_text("Realtime is on")
    call(page)
    expect(page.get_by_test_id("hang-up")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Listening — just talk")
    shot(page, "20-realtime-listening")
    realtime.start_user_turn()
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=5000)
    messages = page.get_by_test_id("message")
    expect(messages.nth(0)).to_have_attribute("data-role", "user")
    expect(messages.nth(0)).to_have_text(re.compile(re.escape(DEFAULT_USER_TRANSCRIPT)))
    expect(messages.nth(1)).to_have_attribute("data-role", "assistant")
    shot(page, "21-realtime-speaking")
    expect(messages.nth(1).locator(".text")).to_have_text(DEFAULT_ASSISTANT_TEXT, timeout=10000)
    expect(messages.nth(1)).to_have_attribute("data-pending", "false")
    expect(mic).to_have_attribute("data-state", "listening")
    expect(page.get_by_test_id("latency")).to_have_text(re.compile(r"^\d+\.\d s$"))
    # The same store as step-by-step turns: export, brief and history see them.
    turns = stored_turns(page)
    assert [(t["role"], t["content"]) for t in turns] == [
        ("user", DEFAULT_USER_TRANSCRIPT), ("assistant", DEFAULT_ASSISTANT_TEXT)]
    assert not any(t.get("interrupted") or t.get("pending") for t in turns)
    # The browser called with the short-lived secret; the key itself stayed on the server.
    assert realtime.call_headers["authorization"].startswith("Bearer ek_")
    assert realtime.call_headers["content-type"] == "application/sdp"
    minted = [r for r in realtime.requests if r.path == "/v1/realtime/client_secrets"]
    assert [r.headers["authorization"] for r in minted] == [f"Bearer {KEY}"]
    assert json.loads(minted[0].body)["session"]["audio"]["output"] == {"voice": "marin"}
    # What the browser sent the call carries no key; the server's own requests (minting the
    # secret, then the living brief's update after the turn) are where the key belongs.
    from_browser = [r for r in realtime.requests if r.path.startswith("/v1/realtime/calls")]
    assert from_browser
    assert all(KEY not in r.body and KEY not in str(r.headers) for r in from_browser)
    assert {r.path for r in realtime.requests} <= {
        "/v1/realtime/client_secrets", "/v1/realtime/calls", "/v1/chat/completions"}
    constraints = page.evaluate("window.__rtc.constraints")
    assert constraints == [{"audio": {"echoCancellation": True, "noiseSuppression": True,
                                      "autoGainControl": True}}]
    # The model's voice plays through the page's <audio> element, and the mic reaches it.
    assert page.evaluate("""() => { const a = document.querySelector('#call-audio');
        return a.srcObject instanceof MediaStream && !a.paused; }""")
    assert realtime.wait_for(lambda: realtime.mic_frames > 10)
    page.get_by_test_id("hang-up").click()


def test_with_server_history_a_call_is_kept_on_the_server_too(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer],
    realtime: FakeRealtimePeer, tmp_path: Path,
) -> None:
    server = serve(openai_base_url=realtime.base_url, database_migrate_on_start=True,
                   database_url=f"sqlite+aiosqlite:///{tmp_path / 'history.db'}")
    device = secrets.token_hex(32)
    settings = {**ON_A_CALL["parley.settings"], "serverHistory": True}  # type: ignore[dict-item]
    page = open_app(new_page, server.url,
                    storage={**ON_A_CALL, "parley.settings": settings, "parley.device": device})
    call(page)
    realtime.start_user_turn()
    reply = page.get_by_test_id("message").nth(1)
    expect(reply).to_have_attribute("data-pending", "false", timeout=10000)
    conversation = page.evaluate("localStorage.getItem('parley.current')")

    def kept() -> list[tuple[str, str]]:
        response = httpx.get(f"{server.url}/api/sessions/{conversation}",
                             headers={"X-Parley-Device": device})
        if response.status_code != 200:
            return []
        return [(m["sender"], m["text"]) for m in response.json()["messages"]]

    assert realtime.wait_for(lambda: len(kept()) == 2)
    assert kept() == [("user", DEFAULT_USER_TRANSCRIPT), ("bot", DEFAULT_ASSISTANT_TEXT)]
    page.get_by_test_id("hang-up").click()


def test_a_tap_while_parley_speaks_barges_in(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    page = while_parley_speaks(new_page, app_url, realtime)
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("aria-label", "Interrupt")
    mic.click()
    assert realtime.wait_for_event("response.cancel") is not None
    assert realtime.wait_for_event("output_audio_buffer.clear") is not None
    reply = page.get_by_test_id("message").nth(1)
    expect(reply).to_have_attribute("data-interrupted", "true")
    expect(mic).to_have_attribute("data-state", "listening")
    expect(page.get_by_test_id("hang-up")).to_be_visible()  # the call goes on
    assert len(reply.locator(".text").inner_text()) < len(DEFAULT_ASSISTANT_TEXT)
    shot(page, "22-realtime-interrupted")
    stored = stored_turns(page)
    assert stored[1]["role"] == "assistant" and stored[1]["interrupted"] is True
    page.wait_for_timeout(500)  # deltas still in flight are not added to what was heard
    assert len(reply.locator(".text").inner_text()) < len(DEFAULT_ASSISTANT_TEXT)


def test_the_model_hearing_the_person_barges_in(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    page = while_parley_speaks(new_page, app_url, realtime)
    mic = page.get_by_test_id("mic")
    realtime.trigger_speech_started()
    assert realtime.wait_for(lambda: [e["type"] for e in realtime.received_events] == [
        "response.cancel", "output_audio_buffer.clear"])
    messages = page.get_by_test_id("message")
    expect(messages.nth(1)).to_have_attribute("data-interrupted", "true")
    expect(mic).to_have_attribute("data-state", "listening")
    # The person's next words and the answer follow, in order.
    realtime.script(delta_delay=0.05)
    realtime.start_user_turn("Wait, what about returning users?",
                             "Good point. Show them what changed.")
    expect(messages).to_have_count(4, timeout=5000)
    expect(messages.nth(2)).to_have_attribute("data-role", "user")
    expect(messages.nth(2)).to_contain_text("Wait, what about returning users?")
    expect(messages.nth(3).locator(".text")).to_have_text("Good point. Show them what changed.")
    # A cancel that came too late is answered with an error event: not a problem to show.
    realtime.send_event({"type": "error", "error": {
        "type": "invalid_request_error", "code": "response_cancel_not_active",
        "message": "Cancellation failed: no active response found", "param": None}})
    page.wait_for_timeout(200)
    expect(page.get_by_test_id("status")).not_to_have_attribute("data-tone", "error")
    expect(page.get_by_test_id("hang-up")).to_be_visible()
    assert [t["role"] for t in stored_turns(page)] == ["user", "assistant", "user", "assistant"]


def test_hanging_up_stops_every_track_and_closes_the_connection(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    realtime.script(delta_delay=0.05)
    page = open_app(new_page, app_url)
    call(page)
    realtime.start_user_turn()
    expect(page.get_by_test_id("message").nth(1).locator(".text")).to_have_text(
        DEFAULT_ASSISTANT_TEXT, timeout=5000)
    assert realtime.wait_for(lambda: realtime.channel_open)
    page.get_by_test_id("hang-up").click()
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("hang-up")).to_be_hidden()
    expect(page.get_by_test_id("status")).to_have_text("Call ended.")
    state = page.evaluate(EVERYTHING_STOPPED)
    assert state["pcs"] == ["closed"]
    assert state["senders"] and set(state["senders"]) == {"ended"}
    assert state["mic"] and set(state["mic"]) == {"ended"}
    assert page.evaluate("document.querySelector('#call-audio').srcObject") is None
    assert realtime.wait_for(lambda: realtime.closed)
    shot(page, "23-realtime-ended")
    # The next call starts with what was said, so the model remembers the thread.
    call(page)
    assert realtime.wait_for(lambda: len(realtime.calls) == 2 and len(
        received(realtime, "conversation.item.create")) == 2)
    items = [e["item"] for e in received(realtime, "conversation.item.create")]
    assert [(i["role"], i["content"][0]) for i in items] == [
        ("user", {"type": "input_text", "text": DEFAULT_USER_TRANSCRIPT}),
        ("assistant", {"type": "output_text", "text": DEFAULT_ASSISTANT_TEXT}),
    ]
    # The talk button ends a call while the model listens.
    expect(mic).to_have_attribute("aria-label", "End call")
    mic.click()
    expect(mic).to_have_attribute("data-state", "idle")
    assert realtime.wait_for(lambda: realtime.closed)
    assert set(page.evaluate(EVERYTHING_STOPPED)["pcs"]) == {"closed"}


def test_typing_during_a_call_asks_the_model_out_loud(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    realtime.script(delta_delay=0.05)
    page = open_app(new_page, app_url)
    call(page)
    page.get_by_test_id("composer").fill("What should the first screen say?")
    page.get_by_test_id("send").click()
    assert realtime.wait_for_event("response.create") is not None
    item = received(realtime, "conversation.item.create")[0]["item"]
    assert item["content"] == [{"type": "input_text", "text": "What should the first screen say?"}]
    messages = page.get_by_test_id("message")
    expect(messages.nth(0)).to_contain_text("What should the first screen say?")
    expect(messages.nth(1).locator(".text")).to_have_text(DEFAULT_SECOND_ASSISTANT_TEXT,
                                                          timeout=5000)
    page.get_by_test_id("hang-up").click()


def test_an_expired_secret_gets_a_clear_message(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    realtime.script(expires_in=0)
    page = open_app(new_page, app_url)
    page.get_by_test_id("mic").click()
    status = page.get_by_test_id("status")
    expect(status).to_have_text("The realtime session expired. Tap to start again.")
    expect(status).to_have_attribute("data-tone", "error")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("hang-up")).to_be_hidden()
    state = page.evaluate(EVERYTHING_STOPPED)
    assert state["pcs"] == ["closed"] and set(state["mic"]) == {"ended"}
    assert realtime.calls == []
    shot(page, "24-realtime-expired")
    # A tap mints a fresh secret.
    realtime.script(expires_in=None)
    call(page)
    assert len(realtime.secrets_minted) == 2
    page.get_by_test_id("hang-up").click()


def test_a_denied_microphone_says_how_to_allow_it(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    page = open_app(new_page, app_url, init=DENY_MIC)
    page.get_by_test_id("mic").click()
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("Parley can't use the microphone. Allow it for this site")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("hang-up")).to_be_hidden()
    assert realtime.calls == []
    shot(page, "25-realtime-mic-denied")


def test_the_call_dropping_says_so_and_offers_another(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    realtime.script(delta_delay=0.05)
    page = new_page(storage=ON_A_CALL, init=OBSERVE, color_scheme="dark")
    page.goto(app_url)
    call(page)
    realtime.start_user_turn()
    messages = page.get_by_test_id("message")
    expect(messages.nth(1).locator(".text")).to_have_text(DEFAULT_ASSISTANT_TEXT, timeout=5000)
    realtime.hang_up()  # OpenAI ends the session, or the network goes
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("Tap to call again", timeout=10000)
    expect(status).to_have_attribute("data-tone", "error")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.get_by_test_id("hang-up")).to_be_hidden()
    state = page.evaluate(EVERYTHING_STOPPED)
    assert state["pcs"] == ["closed"] and set(state["mic"]) == {"ended"}
    expect(messages.nth(2)).to_have_attribute("data-role", "error")
    page.wait_for_timeout(300)  # let the message finish rising into place
    shot(page, "27-realtime-dropped-dark")
    page.get_by_role("button", name="Call again").click()
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "listening",
                                                         timeout=10000)
    assert len(realtime.calls) == 2
    page.get_by_test_id("hang-up").click()


def test_choosing_realtime_in_settings(
    new_page: Callable[..., Page], app_url: str, realtime: FakeRealtimePeer
) -> None:
    page = open_app(new_page, app_url, storage={"parley.settings": {"rememberKey": True}})
    page.get_by_test_id("settings").click()
    toggle = page.get_by_test_id("realtime-toggle")
    expect(toggle).to_be_disabled()
    expect(page.locator("#style-hint")).to_contain_text("Realtime needs your OpenAI API key")
    shot(page, "26-realtime-needs-a-key")
    page.get_by_test_id("api-key").fill(KEY)
    page.get_by_test_id("api-key").press("Tab")
    expect(toggle).to_be_enabled()
    toggle.check(force=True)  # the radio sits under its label, as in every segmented control
    expect(page.locator("#style-hint")).to_contain_text("live call")
    page.locator("#realtime-voice").select_option("cedar")
    shot(page, "19-realtime-settings")
    page.get_by_test_id("settings-close").click()
    call(page)
    minted = [r for r in realtime.requests if r.path == "/v1/realtime/client_secrets"]
    assert json.loads(minted[0].body)["session"]["audio"]["output"] == {"voice": "cedar"}
    page.get_by_test_id("hang-up").click()
    # Back to step by step: the talk button listens with the browser again.
    page.get_by_test_id("settings").click()
    page.locator("input[name=style][value=cascade]").check(force=True)
    page.get_by_test_id("settings-close").click()
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("aria-label", "Start talking")
    mic.click()
    expect(mic).to_have_attribute("data-state", "listening")
    assert len(realtime.calls) == 1
