"""The fake Realtime API, driven by a second aiortc peer doing what the web app's browser does."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from tests.fakes.background import poll_async
from tests.fakes.realtime_peer import (
    DEFAULT_ASSISTANT_TEXT,
    DEFAULT_SECOND_ASSISTANT_TEXT,
    DEFAULT_USER_TRANSCRIPT,
    FakeRealtimePeer,
    _deltas,
    loopback_ice,
    speech_pcm,
)
from tests.images.pictures import (
    TEXT_FILE,
    data_url,
    encoded,
    photo_pixels,
    webp_screenshot,
)

SESSION: dict[str, Any] = {
    "type": "realtime",
    "model": "gpt-realtime",
    "instructions": "You are a sparring partner for product designers.",
    "audio": {
        "input": {
            "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
            "transcription": {"model": "gpt-4o-mini-transcribe"},
        },
        "output": {"voice": "marin"},
    },
}
FIRST_TURN = [
    "session.created",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "conversation.item.input_audio_transcription.completed",
    "response.created",
]


class BrowserPeer:
    """An aiortc peer that calls the fake the way the web app does from the browser."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(AudioStreamTrack())  # a silent microphone
        self.channel = self.pc.createDataChannel("oai-events")
        self.opened = asyncio.Event()
        self.events: list[dict[str, Any]] = []
        self.audio_frames = 0
        self.audio_peak = 0
        self._drains: set[asyncio.Task[None]] = set()
        self.channel.on("open", self.opened.set)
        self.channel.on("message", lambda message: self.events.append(json.loads(message)))
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.get_running_loop().create_task(self._drain(track))
        self._drains.add(task)

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame)
                self.audio_frames += 1
                samples = array.array("h", bytes(frame.planes[0]))
                self.audio_peak = max(self.audio_peak, max(map(abs, samples), default=0))

    async def call(self, http: aiohttp.ClientSession, url: str,
                   secret: str) -> aiohttp.ClientResponse:
        """Post the offer with the secret; applies the answer when the fake gives one."""
        with loopback_ice():  # a CI box may have no other interface than lo
            await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await http.post(url, data=self.pc.localDescription.sdp, headers={
            "Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"})
        answer = await response.text()
        if response.status == 201:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return response

    def send(self, event: dict[str, Any]) -> None:
        """Send a client event on oai-events."""
        self.channel.send(json.dumps(event))

    def types(self) -> list[str]:
        """The types of the events received so far."""
        return [event["type"] for event in self.events]

    async def wait(self, kind: str, count: int = 1, seconds: float = 5.0) -> dict[str, Any]:
        """The `count`-th event of type `kind`, waiting for it."""
        assert await poll_async(lambda: self.types().count(kind) >= count, seconds), kind
        return [e for e in self.events if e["type"] == kind][count - 1]

    async def close(self) -> None:
        """Hang up and wait for the track readers to finish."""
        await self.pc.close()
        # A track whose receiver never started (no ICE yet) gets no end marker: cancel it.
        for task in self._drains:
            task.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)


async def mint(
        http: aiohttp.ClientSession, realtime: FakeRealtimePeer,
        key: str = "sk-test-1234", session: dict[str, Any] = SESSION) -> dict[str, Any]:
    """Mint a client secret the way the backend does."""
    body = {"expires_after": {"anchor": "created_at", "seconds": 600}, "session": session}
    async with http.post(f"{realtime.base_url}/realtime/client_secrets", json=body,
                         headers={"Authorization": f"Bearer {key}"}) as response:
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


@pytest.fixture
def realtime() -> Iterator[FakeRealtimePeer]:
    with FakeRealtimePeer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def peer() -> AsyncIterator[BrowserPeer]:
    browser = BrowserPeer()
    yield browser
    await browser.close()


async def connect(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer,
        session: dict[str, Any] = SESSION) -> None:
    """Mint a secret, place the call and wait for oai-events to open and greet."""
    secret = await mint(http, realtime, session=session)
    response = await peer.call(http, realtime.calls_url, secret["value"])
    assert response.status == 201
    async with asyncio.timeout(5):
        await peer.opened.wait()
    # The fake only takes the channel over after acknowledging it, so wait for its greeting.
    await peer.wait("session.created")


# ---------------------------------------------------------------------------------------------
# Client secrets


async def test_mints_an_ephemeral_secret_and_echoes_the_session(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession) -> None:
    before = int(time.time())
    secret = await mint(http, realtime)
    assert secret["value"].startswith("ek_")
    assert before + 599 <= secret["expires_at"] <= int(time.time()) + 601
    session = secret["session"]
    assert session["id"].startswith("sess_")
    assert session["object"] == "realtime.session"
    assert {k: session[k] for k in SESSION} == SESSION
    assert realtime.secrets_minted == [secret["value"]]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer ek_abc"}])
async def test_minting_needs_a_real_api_key(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
    body = {"session": SESSION}
    async with http.post(f"{realtime.base_url}/realtime/client_secrets", json=body,
                         headers=headers) as response:
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None
    assert realtime.secrets_minted == []


async def test_accept_keys_rejects_other_keys(http: aiohttp.ClientSession) -> None:
    with FakeRealtimePeer(accept_keys={"sk-good-1234"}) as realtime:
        async with http.post(f"{realtime.base_url}/realtime/client_secrets", json={
                "session": SESSION}, headers={"Authorization": "Bearer sk-bad-5678"}) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "invalid_api_key"
        assert (await mint(http, realtime, "sk-good-1234"))["value"].startswith("ek_")


async def test_minting_needs_a_session_type(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{realtime.base_url}/realtime/client_secrets", json={"session": {}},
                         headers={"Authorization": "Bearer sk-test"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["param"] == "session.type"


# ---------------------------------------------------------------------------------------------
# Calls


async def test_call_answers_with_sdp_and_location(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    secret = await mint(http, realtime)
    response = await peer.call(http, realtime.calls_url, secret["value"])
    assert response.status == 201
    assert response.content_type == "application/sdp"
    call_id = response.headers["Location"].removeprefix("/v1/realtime/calls/")
    assert call_id.startswith("rtc_")
    answer = peer.pc.remoteDescription.sdp
    assert answer.startswith("v=0")
    # Loopback host candidates only: no STUN, no other interface.
    candidates = [line for line in answer.splitlines() if line.startswith("a=candidate")]
    assert candidates
    assert all(" 127.0.0.1 " in line and " typ host" in line for line in candidates)
    record = realtime.call
    assert record is not None
    assert record.id == call_id
    assert record.offer_sdp == peer.pc.localDescription.sdp
    assert realtime.call_headers["authorization"] == f"Bearer {secret['value']}"
    assert realtime.call_headers["content-type"] == "application/sdp"


@pytest.mark.parametrize("secret", ["ek_unknown", "sk-test-1234", ""])
async def test_calls_need_a_minted_secret(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer,
        secret: str) -> None:
    await mint(http, realtime)
    response = await peer.call(http, realtime.calls_url, secret)
    assert response.status == 401
    assert (await response.json())["error"]["type"] == "invalid_request_error"
    assert realtime.calls == []
    assert realtime.requests[-1].status == 401


async def test_an_expired_secret_gets_401(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(expires_in=0.05)
    secret = await mint(http, realtime)
    await asyncio.sleep(0.1)
    response = await peer.call(http, realtime.calls_url, secret["value"])
    assert response.status == 401
    error = (await response.json())["error"]
    assert error["code"] == "invalid_api_key"
    assert "expired" in error["message"]


async def test_answers_cors_preflights(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession) -> None:
    async with http.options(realtime.calls_url, headers={
            "Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
    async with http.post(realtime.calls_url) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Access-Control-Expose-Headers"] == "location"


async def test_a_bad_offer_gets_400(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession) -> None:
    secret = await mint(http, realtime)
    async with http.post(realtime.calls_url, data="not sdp", headers={
            "Authorization": f"Bearer {secret['value']}",
            "Content-Type": "application/sdp"}) as response:
        assert response.status == 400
    assert realtime.calls == []


# ---------------------------------------------------------------------------------------------
# The conversation


async def test_plays_the_scripted_turn_in_order(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    await connect(realtime, http, peer)
    done = await peer.wait("response.done")
    types = peer.types()
    deltas = [e for e in peer.events if e["type"] == "response.output_audio_transcript.delta"]
    assert types[:5] == FIRST_TURN
    assert types[5:] == ["response.output_audio_transcript.delta"] * len(deltas) + [
        "response.output_audio_transcript.done", "response.done"]
    assert len(deltas) >= 3
    assert "".join(e["delta"] for e in deltas) == DEFAULT_ASSISTANT_TEXT
    events = {e["type"]: e for e in peer.events}
    assert events["session.created"]["session"]["instructions"] == SESSION["instructions"]
    started = events["input_audio_buffer.speech_started"]
    transcribed = events["conversation.item.input_audio_transcription.completed"]
    assert transcribed["transcript"] == DEFAULT_USER_TRANSCRIPT
    assert transcribed["item_id"] == started["item_id"]
    assert transcribed["content_index"] == 0
    response_id = events["response.created"]["response"]["id"]
    assert response_id.startswith("resp_")
    assert events["response.created"]["response"]["status"] == "in_progress"
    assert all(e["response_id"] == response_id for e in deltas)
    assert events["response.output_audio_transcript.done"]["transcript"] == DEFAULT_ASSISTANT_TEXT
    assert done["response"]["status"] == "completed"
    assert done["response"]["object"] == "realtime.response"
    assert done["response"]["usage"]["total_tokens"] > 0
    ids = [e["event_id"] for e in peer.events]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("event_") for i in ids)
    assert realtime.sent_events == peer.events


async def test_script_changes_texts_and_pace(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(user_transcript="Hello.", assistant_text="Hi.", start_delay=0.0,
                delta_delay=0.0)
    await connect(realtime, http, peer)
    await peer.wait("response.done")
    transcript = await peer.wait("conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] == "Hello."
    assert (await peer.wait("response.output_audio_transcript.done"))["transcript"] == "Hi."


async def test_audio_flows_both_ways(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    await connect(realtime, http, peer)
    await peer.wait("response.created")
    # The fake speaks while a response runs, so frames soon carry more than silence.
    assert await realtime.wait_for_async(lambda: peer.audio_frames >= 25 and peer.audio_peak > 1000)
    assert await realtime.wait_for_async(lambda: realtime.mic_frames >= 10)
    record = realtime.call
    assert record is not None
    assert record.mic_track


async def test_cancel_during_deltas_cancels_the_response(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(delta_delay=0.2)
    await connect(realtime, http, peer)
    await peer.wait("response.output_audio_transcript.delta")
    peer.send({"type": "response.cancel"})
    done = await peer.wait("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "client_cancelled"
    assert "response.output_audio_transcript.done" not in peer.types()
    deltas = peer.types().count("response.output_audio_transcript.delta")
    assert deltas < len(_deltas(DEFAULT_ASSISTANT_TEXT))
    await asyncio.sleep(0.3)
    assert peer.types().count("response.output_audio_transcript.delta") == deltas
    assert await realtime.wait_for_event_async("response.cancel") is not None


async def test_barge_in_trigger_and_clear(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(delta_delay=0.2)
    await connect(realtime, http, peer)
    await peer.wait("response.output_audio_transcript.delta")
    sent = await asyncio.to_thread(realtime.trigger_speech_started)
    started = await peer.wait("input_audio_buffer.speech_started", count=2)
    assert started == sent
    # What the web app does on speech_started while the assistant talks:
    peer.send({"type": "response.cancel"})
    peer.send({"type": "output_audio_buffer.clear"})
    assert (await peer.wait("response.done"))["response"]["status"] == "cancelled"
    assert (await peer.wait("output_audio_buffer.cleared"))["type"]
    assert realtime.wait_for(lambda: [e["type"] for e in realtime.received_events] == [
        "response.cancel", "output_audio_buffer.clear"])


async def test_response_create_runs_the_second_text(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    await connect(realtime, http, peer)
    await peer.wait("response.done")
    peer.send({"type": "response.create"})
    done = await peer.wait("response.done", count=2)
    assert done["response"]["status"] == "completed"
    second = await peer.wait("response.output_audio_transcript.done", count=2)
    assert second["transcript"] == DEFAULT_SECOND_ASSISTANT_TEXT
    assert second["response_id"] == done["response"]["id"]


async def test_protocol_errors_come_back_as_error_events(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(start_delay=None)
    await connect(realtime, http, peer)
    peer.send({"type": "response.cancel", "event_id": "evt_1"})
    error = (await peer.wait("error"))["error"]
    assert (error["code"], error["event_id"]) == ("response_cancel_not_active", "evt_1")
    peer.send({"type": "response.create"})
    peer.send({"type": "response.create"})
    error = (await peer.wait("error", count=2))["error"]
    assert error["code"] == "conversation_already_has_active_response"
    await peer.wait("response.done")


async def test_start_user_turn_interrupts_and_answers(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(delta_delay=0.2)
    await connect(realtime, http, peer)
    await peer.wait("response.output_audio_transcript.delta")
    await asyncio.to_thread(realtime.start_user_turn, "Wait, one more thing.", "Go on.")
    interrupted = await peer.wait("response.done")
    assert interrupted["response"]["status_details"]["reason"] == "turn_detected"
    transcript = await peer.wait("conversation.item.input_audio_transcription.completed", 2)
    assert transcript["transcript"] == "Wait, one more thing."
    assert (await peer.wait("response.done", count=2))["response"]["status"] == "completed"


# ---------------------------------------------------------------------------------------------
# Items: text and pictures the client adds to the conversation


def picture_item(url: str, *parts: dict[str, Any], role: str = "user") -> dict[str, Any]:
    return {"type": "conversation.item.create", "event_id": "evt_pic", "item": {
        "type": "message", "role": role,
        "content": [*parts, {"type": "input_image", "image_url": url}]}}


JPEG = data_url(encoded(photo_pixels(640, 480), "JPEG", quality=80), "image/jpeg")


async def test_a_picture_is_echoed_and_the_next_answer_sees_it(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(start_delay=None, describe_images=True)
    await connect(realtime, http, peer)
    peer.send(picture_item(JPEG, {"type": "input_text", "text": "Our sign-up screen."}))
    added = await peer.wait("conversation.item.added")
    done = await peer.wait("conversation.item.done")
    assert added["previous_item_id"] is None
    assert added["item"] == done["item"]
    item = added["item"]
    assert item["id"].startswith("item_") and item["object"] == "realtime.item"
    assert item["content"][1] == {"type": "input_image", "image_url": JPEG}  # echoed whole
    assert realtime.items == [item]
    (seen,) = realtime.images
    assert seen.image().size == (640, 480) and seen.media_type == "image/jpeg"
    peer.send({"type": "response.create"})
    said = await peer.wait("response.output_audio_transcript.done")
    assert said["transcript"] == "I see 1 image: a 640x480 JPEG. What should we look at first?"
    # A later answer has seen it already; the next item follows the first.
    peer.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}})
    assert (await peer.wait("conversation.item.added", 2))["previous_item_id"] == item["id"]
    await peer.wait("response.done")
    peer.send({"type": "response.create"})
    said = await peer.wait("response.output_audio_transcript.done", 2)
    assert said["transcript"] == "I don't see an image in your message. Could you attach it?"


@pytest.mark.parametrize(("event", "code", "param"), [
    (picture_item(data_url(webp_screenshot(64, 48), "image/webp")),
     "invalid_image_format", "item.content[0].image_url"),  # PNG and JPEG only
    (picture_item("https://example.com/screen.png"),
     "invalid_image_format", "item.content[0].image_url"),
    (picture_item(data_url(TEXT_FILE, "image/jpeg")),
     "invalid_image_format", "item.content[0].image_url"),
    (picture_item(JPEG.replace("image/jpeg", "image/png")),
     "invalid_image_format", "item.content[0].image_url"),
    (picture_item(JPEG, role="assistant"), "invalid_value", "item.content[0].type"),
    (picture_item(JPEG, {"type": "input_text"}),
     "missing_required_parameter", "item.content[0].text"),
    (picture_item(JPEG, role="robot"), "invalid_value", "item.role"),
    ({"type": "conversation.item.create"}, "missing_required_parameter", "item"),
], ids=["webp", "link", "text-file", "mislabelled", "assistant", "no-text", "role", "no-item"])
async def test_items_the_api_refuses_come_back_as_errors(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer,
        event: dict[str, Any], code: str, param: str) -> None:
    realtime.script(start_delay=None)
    await connect(realtime, http, peer)
    peer.send(event)
    error = (await peer.wait("error"))["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error", code, param)
    assert error["event_id"] == event.get("event_id")
    assert realtime.items == [] and "conversation.item.added" not in peer.types()


async def test_a_beta_model_refuses_pictures(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(start_delay=None)
    await connect(realtime, http, peer, session={**SESSION, "model": "gpt-4o-realtime-preview"})
    peer.send(picture_item(JPEG))
    error = (await peer.wait("error"))["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "item.content[0].type")
    assert "'input_text' and 'input_audio'" in error["message"]
    assert realtime.images == []


async def test_an_echo_too_big_for_the_browser_drops_the_call(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    realtime.script(start_delay=None)
    await connect(realtime, http, peer)
    # An event just under the browser's 256 KiB message limit: its echo is a little over.
    jpeg = encoded(photo_pixels(64, 48), "JPEG")
    event = picture_item(data_url(jpeg, "image/jpeg"))
    room = 262_144 - len(json.dumps(event)) - 8
    event["item"]["content"][0]["image_url"] = data_url(jpeg + bytes(room * 3 // 4), "image/jpeg")
    assert len(json.dumps(event)) <= 262_144
    peer.send(event)
    assert await realtime.wait_for_async(lambda: realtime.closed)
    assert realtime.sent_events[-1]["type"] == "conversation.item.added"
    assert realtime.sent_events[-1]["undeliverable"] is True


# ---------------------------------------------------------------------------------------------
# Closing


async def test_closing_the_peer_marks_the_call_closed(
        realtime: FakeRealtimePeer, http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    await connect(realtime, http, peer)
    assert realtime.channel_open
    assert not realtime.closed
    before = time.monotonic()
    await peer.close()
    assert await realtime.wait_for_async(lambda: realtime.closed)
    closed_at = realtime.closed_at
    assert closed_at is not None
    assert closed_at >= before
    assert await realtime.wait_for_async(
        lambda: realtime.call is not None and realtime.call.connection_state == "closed")


async def test_hang_up_and_stop_close_the_browser_side(
        http: aiohttp.ClientSession, peer: BrowserPeer) -> None:
    with FakeRealtimePeer() as realtime:
        await connect(realtime, http, peer)
        await asyncio.to_thread(realtime.hang_up)
        assert realtime.closed
        assert await poll_async(lambda: peer.pc.connectionState == "closed", 5.0)
    second = BrowserPeer()
    try:
        with FakeRealtimePeer() as realtime:
            await connect(realtime, http, second)
        assert realtime.closed  # stop() closed the call it still had
    finally:
        await second.close()


# ---------------------------------------------------------------------------------------------
# Pieces


def test_deltas_join_back_to_the_text() -> None:
    assert "".join(_deltas(DEFAULT_ASSISTANT_TEXT)) == DEFAULT_ASSISTANT_TEXT
    assert _deltas("one") == ["one"]
    assert _deltas("a b c d") == ["a b c", " d"]


def test_speech_is_cached_48k_pcm() -> None:
    pcm = speech_pcm(DEFAULT_ASSISTANT_TEXT)
    assert pcm is speech_pcm(DEFAULT_ASSISTANT_TEXT)
    assert len(pcm) % 2 == 0
    assert len(pcm) > 48_000 * 2  # more than a second of audio


# ---------------------------------------------------------------------------------------------
# A real Chromium, the way the web app will call the fake

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    # Chromium leaves lo out of WebRTC by default; on a box with no other interface it would
    # then offer no candidate at all and ICE could never start.
    "--allow-loopback-in-peer-connection",
]
CALL_PAGE = b"""<!doctype html><meta charset="utf-8"><title>realtime call</title>
<script>
window.rt = {events: [], packets: 0};
window.startCall = async ({callsUrl, secret}) => {
  const rt = window.rt;
  const pc = rt.pc = new RTCPeerConnection({iceServers: []});
  const mic = await navigator.mediaDevices.getUserMedia({audio: true});
  pc.addTrack(mic.getAudioTracks()[0], mic);
  pc.ontrack = (e) => { rt.track = e.track.kind; };
  const dc = pc.createDataChannel('oai-events');
  let active = null;
  dc.onmessage = (e) => {
    const event = JSON.parse(e.data);
    rt.events.push(event);
    if (event.type === 'response.created') active = event.response.id;
    if (event.type === 'response.done') active = null;
    if (event.type === 'input_audio_buffer.speech_started' && active) {
      dc.send(JSON.stringify({type: 'response.cancel'}));
      dc.send(JSON.stringify({type: 'output_audio_buffer.clear'}));
    }
  };
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const response = await fetch(callsUrl, {method: 'POST', body: offer.sdp, headers: {
    Authorization: 'Bearer ' + secret, 'Content-Type': 'application/sdp'}});
  rt.status = response.status;
  rt.location = response.headers.get('Location');
  await pc.setRemoteDescription({type: 'answer', sdp: await response.text()});
  setInterval(async () => {
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') rt.packets = s.packetsReceived;
    });
  }, 100);
};
</script>"""


@contextlib.contextmanager
def page_server(html: bytes) -> Iterator[str]:
    """Serve `html` from another loopback port: getUserMedia needs a secure origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def mint_blocking(realtime: FakeRealtimePeer) -> str:
    """Mint a client secret from a synchronous test."""
    body = json.dumps({"session": SESSION}).encode()
    request = urllib.request.Request(
        f"{realtime.base_url}/realtime/client_secrets", data=body,
        headers={"Authorization": "Bearer sk-test-1234", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        value: str = json.load(response)["value"]
        return value


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_a_real_chromium_talks_to_the_fake(realtime: FakeRealtimePeer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    realtime.script(delta_delay=0.2)
    secret = mint_blocking(realtime)
    with page_server(CALL_PAGE) as page_url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.evaluate("args => window.startCall(args)",
                          {"callsUrl": realtime.calls_url, "secret": secret})
            assert page.evaluate("window.rt.status") == 201
            assert page.evaluate("window.rt.location").startswith("/v1/realtime/calls/rtc_")
            page.wait_for_function("window.rt.events.some(e => e.type.endsWith('.delta'))")
            realtime.trigger_speech_started()
            page.wait_for_function("window.rt.events.some(e => e.type === 'response.done')")
            types = page.evaluate("window.rt.events.map(e => e.type)")
            assert types[:5] == FIRST_TURN
            done = page.evaluate("window.rt.events.find(e => e.type === 'response.done')")
            assert done["response"]["status"] == "cancelled"
            assert realtime.wait_for(lambda: [e["type"] for e in realtime.received_events] == [
                "response.cancel", "output_audio_buffer.clear"])
            page.wait_for_function("window.rt.track === 'audio' && window.rt.packets > 10")
            assert realtime.wait_for(lambda: realtime.mic_frames > 10)
            page.evaluate("window.rt.pc.close()")
            assert realtime.wait_for(lambda: realtime.closed)
        finally:
            browser.close()
