"""A fake OpenAI Realtime API (GA) that answers WebRTC calls like the real speech-to-speech model.

It serves ``POST /v1/realtime/client_secrets`` (mints ``ek_`` secrets) and
``POST /v1/realtime/calls`` (SDP offer in, SDP answer out) from a background thread, then plays
a scripted conversation over the ``oai-events`` data channel and a spoken audio track::

    with FakeRealtimePeer() as fake:
        fake.script(user_transcript="Hello.", assistant_text="Hi there, what are we designing?")
        ...  # the browser (or an aiortc peer) mints a secret and calls fake.calls_url
        assert fake.wait_for_event("response.cancel")
        assert fake.wait_for(lambda: fake.closed)

ICE runs on loopback only: the fake gathers one host candidate on 127.0.0.1 and uses no STUN
server, so it works offline. It answers, so the browser's offer needs no candidates at all
(it may post ``offer.sdp`` before gathering ends, as OpenAI's own example does): the browser's
connectivity checks reach 127.0.0.1 and the fake learns the browser's address from them
(peer-reflexive), whether its host candidates are real addresses or mDNS ``.local`` names.
(Chromium's offers carry no ``a=end-of-candidates``; an offer with that line and only ``.local``
candidates makes aioice give up at once, as the names do not resolve.)
Chromium leaves ``lo`` out of WebRTC unless started with ``--allow-loopback-in-peer-connection``;
without that flag a machine whose only interface is ``lo`` cannot connect at all.

``conversation.item.create`` is checked as the GA API documents its items (a message's role,
the content part types that role may carry, ``input_image`` as a base64 PNG or JPEG data URL,
which the beta ``*-realtime-preview`` models refuse) and answered with ``conversation.item.added``
and ``conversation.item.done``, which echo the whole item; a refused item gets an ``error`` event
(codes and params as OpenAI's REST errors have them; the realtime wording is not captured).
The items make up the call's conversation (`FakeRealtimePeer.items`, `.images`), and with
``describe_images`` the next answer says how many pictures it was shown, and what they were.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import dataclasses
import fractions
import json
import math
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import aioice.ice
import av
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from tests.fakes.background import BackgroundServer
from tests.fakes.openai_images import ContentPart, describe_parts
from tests.fakes.openai_wire import (
    bearer,
    error,
    headers_of,
    invalid_key,
    missing_key,
    unknown_url,
)

DEFAULT_USER_TRANSCRIPT: Final = "I want to redesign our onboarding."
DEFAULT_ASSISTANT_TEXT: Final = (
    "Start with the first screen people see. What do they need to decide there?"
)
DEFAULT_SECOND_ASSISTANT_TEXT: Final = (
    "Fair. Now picture someone in a hurry. What would make them give up on that screen?"
)
DATA_CHANNEL_LABEL: Final = "oai-events"

SAMPLE_RATE: Final = 48_000
FRAME_SAMPLES: Final = 960  # 20 ms, what WebRTC's Opus packetizes
_TIME_BASE: Final = fractions.Fraction(1, SAMPLE_RATE)
_WORDS_PER_DELTA: Final = 3
_SECRET_SECONDS_RANGE: Final = (10, 7200)  # what OpenAI accepts for expires_after.seconds
_THREAD_CALL_TIMEOUT: Final = 10.0
# Milliseconds of scripted "user speech" per transcript character, for plausible audio_end_ms.
_MS_PER_CHAR: Final = 60
# The content part types each role's message may carry (GA realtime items).
_PART_TYPES: Final = {
    "user": ("input_text", "input_audio", "input_image"),
    "assistant": ("output_text", "output_audio"),
    "system": ("input_text",),
}
# An input_image: "Supported formats are PNG and JPEG." (not WebP or GIF, unlike Chat).
_IMAGE_TYPES: Final = {"image/png": "PNG", "image/jpeg": "JPEG"}
_DETAILS: Final = ("auto", "low", "high")
# The beta realtime models take text and audio only.
_BLIND_MODEL_MARK: Final = "realtime-preview"

_T = TypeVar("_T")

_CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "authorization, content-type",
    "Access-Control-Expose-Headers": "location",
}


# ---------------------------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True)
class RealtimeScript:
    """What the fake says and how fast; change it with `FakeRealtimePeer.script`."""

    user_transcript: str = DEFAULT_USER_TRANSCRIPT
    assistant_text: str = DEFAULT_ASSISTANT_TEXT
    second_assistant_text: str = DEFAULT_SECOND_ASSISTANT_TEXT  # answers `response.create`
    start_delay: float | None = 0.3  # after session.created; None: no automatic first turn
    delta_delay: float = 0.05  # before each response.output_audio_transcript.delta
    expires_in: float | None = None  # secret lifetime; None honours the request's expires_after
    # Answer about the pictures added since the last answer instead of the scripted text.
    describe_images: bool = False


@dataclass(frozen=True)
class HttpRecord:
    """One HTTP request the fake received, with the status it answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: str
    status: int


@dataclass(frozen=True)
class CallRecord:
    """A snapshot of one WebRTC call; times are `time.monotonic()` values."""

    id: str
    headers: dict[str, str]  # of the POST /v1/realtime/calls, lower-case names
    offer_sdp: str
    received_events: list[dict[str, Any]]
    sent_events: list[dict[str, Any]]
    items: list[dict[str, Any]]  # the conversation's items the client created, as echoed
    channel_open: bool
    mic_track: bool  # the browser sent an audio track
    mic_frames: int  # audio frames decoded from it
    connection_state: str
    closed: bool
    closed_at: float | None


# ---------------------------------------------------------------------------------------------
# Loopback-only ICE

# aioice skips 127.0.0.1 when it lists host addresses, and offers no setting to choose them,
# so its lookup is wrapped once; threads that did not opt in get the original behaviour.
_original_host_addresses: Final = aioice.ice.get_host_addresses
_loopback_threads: Counter[int] = Counter()
_loopback_lock = threading.Lock()


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _loopback_threads[threading.get_ident()] > 0:
        return ["127.0.0.1"] if use_ipv4 else []
    return _original_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)


@contextlib.contextmanager
def loopback_ice() -> Iterator[None]:
    """Make aiortc peers in this thread gather ICE host candidates on 127.0.0.1 only."""
    ident = threading.get_ident()
    with _loopback_lock:
        aioice.ice.get_host_addresses = _host_addresses
        _loopback_threads[ident] += 1
    try:
        yield
    finally:
        with _loopback_lock:
            _loopback_threads[ident] -= 1


# ---------------------------------------------------------------------------------------------
# Audio: espeak-ng speech (or a tone), resampled once to 48 kHz mono s16

_speech_cache: dict[str, bytes] = {}
_speech_lock = threading.Lock()


def speech_pcm(text: str) -> bytes:
    """48 kHz mono s16 PCM of `text` from espeak-ng, or a 440 Hz tone without it (cached)."""
    with _speech_lock:
        if text not in _speech_cache:
            _speech_cache[text] = _espeak(text) or _tone(1.5)
        return _speech_cache[text]


def _espeak(text: str) -> bytes | None:
    binary = shutil.which("espeak-ng")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="fake-realtime-") as tmp:
        path = Path(tmp) / "speech.wav"
        try:
            subprocess.run([binary, "-w", str(path), text], check=True, capture_output=True,
                           timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                return None
            return _resample(wav.readframes(wav.getnframes()), wav.getframerate())


def _resample(pcm: bytes, rate: int) -> bytes:
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm[: frame.planes[0].buffer_size])
    frame.sample_rate = rate
    frame.pts = 0
    frame.time_base = fractions.Fraction(1, rate)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    frames = resampler.resample(frame) + resampler.resample(None)  # None flushes the tail
    return b"".join(bytes(f.planes[0])[: f.samples * 2] for f in frames)


def _tone(seconds: float) -> bytes:
    count = int(seconds * SAMPLE_RATE)
    samples = array.array(
        "h", (int(9000 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)) for i in range(count))
    )
    return samples.tobytes()


class SpeechTrack(MediaStreamTrack):
    """The assistant's voice: plays the speech once per `speak()`, silence otherwise."""

    kind = "audio"

    def __init__(self, pcm: bytes) -> None:
        super().__init__()
        self._pcm = pcm
        self._cursor: int | None = None  # byte offset into the speech while speaking
        self._pts = 0
        self._started: float | None = None

    def speak(self) -> None:
        """Start the speech from the beginning."""
        self._cursor = 0

    def hush(self) -> None:
        """Cut the speech short (barge-in, output_audio_buffer.clear)."""
        self._cursor = None

    @property
    def speaking(self) -> bool:
        """Whether speech (not silence) is going out."""
        return self._cursor is not None

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms frame, paced in real time like a microphone."""
        if self.readyState != "live":
            raise MediaStreamError
        await self._pace()
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._next_chunk())
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = _TIME_BASE
        self._pts += FRAME_SAMPLES
        return frame

    async def _pace(self) -> None:
        # aiortc sends whatever recv() returns at once, so the track itself keeps real time.
        now = time.monotonic()
        if self._started is None:
            self._started = now
            return
        await asyncio.sleep(max(0.0, self._started + self._pts / SAMPLE_RATE - now))

    def _next_chunk(self) -> bytes:
        size = FRAME_SAMPLES * 2
        if self._cursor is None:
            return bytes(size)
        chunk = self._pcm[self._cursor : self._cursor + size]
        self._cursor += size
        if self._cursor >= len(self._pcm):
            self._cursor = None
        return chunk.ljust(size, b"\0")


# ---------------------------------------------------------------------------------------------
# Helpers


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": _new_id("event"), "type": kind, **fields}


def _deltas(text: str) -> list[str]:
    """Split `text` into deltas of a few words that join back to exactly `text`."""
    words = text.split(" ")
    pieces = [" ".join(words[i : i + _WORDS_PER_DELTA])
              for i in range(0, len(words), _WORDS_PER_DELTA)]
    return [piece if i == 0 else " " + piece for i, piece in enumerate(pieces)]


def _usage(text: str) -> dict[str, Any]:
    # Rough but stable numbers: tests only need the shape and plausible magnitudes.
    text_tokens = max(1, len(text) // 4)
    audio_tokens = text_tokens * 5
    return {
        "total_tokens": 120 + text_tokens + audio_tokens,
        "input_tokens": 120,
        "output_tokens": text_tokens + audio_tokens,
        "input_token_details": {"text_tokens": 100, "audio_tokens": 20, "cached_tokens": 0},
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }


def _validate_secret_body(body: Any) -> web.Response | None:
    """OpenAI's 400 for a malformed client_secrets body, or None when it is fine."""
    if not isinstance(body, dict):
        return error(400, "We could not parse the JSON body of your request.")
    session = body.get("session")
    if not isinstance(session, dict) or "type" not in session:
        return error(400, "Missing required parameter: 'session.type'.",
                     code="missing_required_parameter", param="session.type")
    if session["type"] not in ("realtime", "transcription"):
        return error(400, f"Invalid value: '{session['type']}'. Supported values are: "
                      "'realtime' and 'transcription'.", code="invalid_value", param="session.type")
    seconds = (body.get("expires_after") or {}).get("seconds", 600)
    low, high = _SECRET_SECONDS_RANGE
    if not isinstance(seconds, int) or not low <= seconds <= high:
        return error(400, f"Invalid 'expires_after.seconds': must be between {low} and "
                      f"{high}.", code="invalid_value", param="expires_after.seconds")
    return None


def _item_error(item: Any, model: str) -> tuple[str, str, str] | None:
    """(code, message, param) of the error OpenAI sends for this item, or None if it takes it."""
    if not isinstance(item, dict):
        return ("missing_required_parameter", "Missing required parameter: 'item'.", "item")
    if item.get("type") != "message":
        return None  # function calls and their outputs: taken as they come
    role = item.get("role")
    if role not in _PART_TYPES:
        return ("invalid_value", f"Invalid value: {role!r}. Supported values are: 'user', "
                "'assistant', and 'system'.", "item.role")
    content = item.get("content")
    if not isinstance(content, list):
        return ("missing_required_parameter", "Missing required parameter: 'item.content'.",
                "item.content")
    allowed = _PART_TYPES[role]
    if role == "user" and _BLIND_MODEL_MARK in model:
        allowed = ("input_text", "input_audio")
    for index, part in enumerate(content):
        refused = _part_error(part, allowed, f"item.content[{index}]")
        if refused is not None:
            return refused
    return None


def _part_error(part: Any, allowed: tuple[str, ...], where: str) -> tuple[str, str, str] | None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in allowed:
        supported = " and ".join(f"'{t}'" for t in allowed) if len(allowed) < 3 else (
            ", ".join(f"'{t}'" for t in allowed[:-1]) + f", and '{allowed[-1]}'")
        return ("invalid_value", f"Invalid value: {kind!r}. Supported values are: "
                f"{supported}.", f"{where}.type")
    assert isinstance(part, dict)
    if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
        return ("missing_required_parameter", f"Missing required parameter: '{where}.text'.",
                f"{where}.text")
    if kind != "input_image":
        return None
    if part.get("detail", "auto") not in _DETAILS:
        return ("invalid_value", f"Invalid value: {part.get('detail')!r}. Supported values "
                "are: 'auto', 'low', and 'high'.", f"{where}.detail")
    url = part.get("image_url")
    if not isinstance(url, str):
        return ("missing_required_parameter", f"Missing required parameter: "
                f"'{where}.image_url'.", f"{where}.image_url")
    picture = ContentPart(0, "user", "input_image", url=url)
    expected = _IMAGE_TYPES.get(picture.media_type or "")
    try:
        if expected is None:
            raise ValueError(picture.media_type)
        found = picture.image().format
    except (OSError, SyntaxError, ValueError, EOFError):
        found = None
    if found is None or found != expected:
        return ("invalid_image_format", f"Invalid '{where}.image_url': expected a base64 data "
                "URL of a PNG or JPEG image (data:image/png;base64,... or "
                "data:image/jpeg;base64,...).", f"{where}.image_url")
    return None


def _image_parts(items: list[dict[str, Any]]) -> list[ContentPart]:
    """The content parts of message items, numbered by item."""
    parts: list[ContentPart] = []
    for index, item in enumerate(items):
        for part in item.get("content", []) if item.get("type") == "message" else []:
            parts.append(ContentPart(
                index, str(item.get("role")), str(part.get("type")),
                text=part.get("text"), url=part.get("image_url"), detail=part.get("detail")))
    return parts


# ---------------------------------------------------------------------------------------------
# Loop-side state of one call


@dataclass
class _Response:
    id: str
    item_id: str
    text: str
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = "client_cancelled"
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    spoken: list[str] = field(default_factory=list)


@dataclass
class _Secret:
    value: str
    expires_at: float  # wall clock, like OpenAI's expires_at
    session: dict[str, Any]


@dataclass
class _Call:
    id: str
    headers: dict[str, str]
    offer_sdp: str
    session: dict[str, Any]
    pc: RTCPeerConnection
    track: SpeechTrack
    started: float = field(default_factory=time.monotonic)
    answer_sdp: str = ""
    channel: RTCDataChannel | None = None
    response: _Response | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0  # how many of `items` an answer has already seen
    mic_track: bool = False
    mic_frames: int = 0
    closed_at: float | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    closing: asyncio.Task[None] | None = None

    def snapshot(self) -> CallRecord:
        return CallRecord(
            id=self.id, headers=dict(self.headers), offer_sdp=self.offer_sdp,
            received_events=list(self.received),
            sent_events=list(self.sent),
            items=list(self.items),
            channel_open=self.channel is not None and self.channel.readyState == "open",
            mic_track=self.mic_track, mic_frames=self.mic_frames,
            connection_state=self.pc.connectionState, closed=self.closed_at is not None,
            closed_at=self.closed_at,
        )


# ---------------------------------------------------------------------------------------------
# The server, living entirely in the background thread's event loop


class _Server:
    """HTTP handlers and call logic; every method runs in the fake's own event loop."""

    def __init__(self, lock: threading.Lock, accept_keys: Collection[str] | None,
                 speech: bytes) -> None:
        self.lock = lock
        self.accept_keys = None if accept_keys is None else frozenset(accept_keys)
        self.speech = speech
        self.script = RealtimeScript()
        self.secrets: dict[str, _Secret] = {}
        self.calls: list[_Call] = []
        self.requests: list[HttpRecord] = []
        self.tasks: set[asyncio.Task[None]] = set()  # closings that outlive their call

    def app(self) -> web.Application:
        app = web.Application()
        app.on_response_prepare.append(self._stamp)
        app.router.add_post("/v1/realtime/client_secrets", self._client_secrets)
        app.router.add_post("/v1/realtime/calls", self._calls)
        app.router.add_post("/v1/realtime/calls/{call_id}/hangup", self._hangup)
        app.router.add_route("OPTIONS", "/{tail:.*}", self._preflight)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    # -- HTTP -------------------------------------------------------------------------------

    async def _stamp(self, request: web.Request, response: web.StreamResponse) -> None:
        # The browser calls from another origin, and reads the call id from Location.
        for name, value in _CORS_HEADERS.items():
            response.headers.setdefault(name, value)  # a preflight's own list wins
        response.headers["x-request-id"] = _new_id("req")
        with self.lock:
            self.requests.append(HttpRecord(request.method, request.path, headers_of(request),
                                            request.get(_BODY_KEY, ""), response.status))

    async def _preflight(self, request: web.Request) -> web.Response:
        asked = request.headers.get("Access-Control-Request-Headers", "")
        allowed = {"authorization", "content-type"} | {
            name.strip().lower() for name in asked.split(",") if name.strip()}
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": ", ".join(sorted(allowed)),
            "Access-Control-Max-Age": "600",
        })

    async def _unknown(self, request: web.Request) -> web.Response:
        await _read_body(request)
        return unknown_url(request)

    def _check_key(self, request: web.Request) -> web.Response | None:
        key = bearer(request.headers.get("Authorization"))
        if key is None:
            return missing_key()
        if key.startswith("ek_") or (self.accept_keys is not None and key not in self.accept_keys):
            return invalid_key(key)
        return None

    async def _client_secrets(self, request: web.Request) -> web.Response:
        raw = await _read_body(request)
        denied = self._check_key(request)
        if denied is not None:
            return denied
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        invalid = _validate_secret_body(body)
        if invalid is not None:
            return invalid
        secret = self._mint(body)
        answer = {"value": secret.value, "expires_at": int(secret.expires_at),
                  "session": secret.session}
        return web.json_response(answer)

    def _mint(self, body: dict[str, Any]) -> _Secret:
        lifetime = self.script.expires_in
        if lifetime is None:
            lifetime = (body.get("expires_after") or {}).get("seconds", 600)
        session = {**body["session"], "id": _new_id("sess"), "object": "realtime.session"}
        secret = _Secret(_new_id("ek"), time.time() + lifetime, session)
        self.secrets[secret.value] = secret
        return secret

    def _check_secret(self, request: web.Request) -> _Secret | web.Response:
        key = bearer(request.headers.get("Authorization"))
        if key is None:
            return missing_key()
        secret = self.secrets.get(key)
        if secret is None:
            return invalid_key(key)
        if time.time() >= secret.expires_at:
            return error(401, "The client secret has expired. Create a new one with "
                          "POST /v1/realtime/client_secrets.", code="invalid_api_key")
        return secret

    async def _calls(self, request: web.Request) -> web.Response:
        offer = await _read_body(request)
        secret = self._check_secret(request)
        if isinstance(secret, web.Response):
            return secret
        if request.content_type != "application/sdp":
            return error(400, "Unsupported content type: expected application/sdp.",
                         param="content-type")
        try:
            call = await self._answer(offer, headers_of(request), secret)
        except Exception as exc:  # aiortc rejects malformed SDP with assorted exceptions
            return error(400, f"Invalid SDP offer: {exc}", code="invalid_offer", param="sdp")
        return web.Response(status=201, text=call.answer_sdp, content_type="application/sdp",
                            headers={"Location": f"/v1/realtime/calls/{call.id}"})

    async def _hangup(self, request: web.Request) -> web.Response:
        await _read_body(request)
        call = next((c for c in self.calls if c.id == request.match_info["call_id"]), None)
        if call is None:
            return error(404, "Call not found.", code="call_not_found")
        await self.close_call(call)
        return web.Response(status=200)

    # -- WebRTC -----------------------------------------------------------------------------

    async def _answer(self, offer: str, headers: dict[str, str], secret: _Secret) -> _Call:
        if "m=" not in offer:
            raise ValueError("the offer has no media section")
        # No STUN: the machine may be offline, and loopback host candidates are enough.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session = {"output_modalities": ["audio"], "expires_at": int(secret.expires_at),
                   **secret.session}
        call = _Call(_new_id("rtc"), headers, offer, session, pc, SpeechTrack(self.speech))
        self._wire(call)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            pc.addTrack(call.track)
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await self._close(call)  # also ends the mic reader the track event started
            raise
        call.answer_sdp = pc.localDescription.sdp
        with self.lock:
            self.calls.append(call)
        return call

    def _wire(self, call: _Call) -> None:
        pc = call.pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label == DATA_CHANNEL_LABEL:
                self._open_channel(call, channel)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                with self.lock:
                    call.mic_track = True
                self.spawn(call, self._drain_mic(call, track))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._mark_closed(call)
                self._closing(call)

    def _open_channel(self, call: _Call, channel: RTCDataChannel) -> None:
        call.channel = channel

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            self._on_message(call, message)

        @channel.on("close")
        def on_close() -> None:
            self._mark_closed(call)
            self._closing(call)

        self.send(call, _event("session.created", session=call.session))
        delay = self.script.start_delay
        if delay is not None:
            self.spawn(call, self.user_turn(call, None, None, delay))

    async def _drain_mic(self, call: _Call, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:  # the browser's track ended or the call closed
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            with self.lock:
                call.mic_frames += 1

    def _mark_closed(self, call: _Call) -> None:
        with self.lock:
            if call.closed_at is None:
                call.closed_at = time.monotonic()

    def _closing(self, call: _Call) -> asyncio.Task[None]:
        # One closing task per call, apart from aiortc's callbacks (which pc.close() awaits)
        # and from the call's own tasks (which it cancels).
        if call.closing is None:
            call.closing = asyncio.get_running_loop().create_task(self._close(call))
            self.tasks.add(call.closing)
            call.closing.add_done_callback(self.tasks.discard)
        return call.closing

    async def close_call(self, call: _Call) -> None:
        """Close one call's peer connection and stop everything it runs."""
        await self._closing(call)

    async def _close(self, call: _Call) -> None:
        self._mark_closed(call)
        tasks = list(call.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        call.track.stop()
        await call.pc.close()

    def spawn(self, call: _Call, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` as a task owned by `call`, so closing the call cancels it."""
        task = asyncio.get_running_loop().create_task(coro)
        call.tasks.add(task)
        task.add_done_callback(call.tasks.discard)

    # -- events -----------------------------------------------------------------------------

    def send(self, call: _Call, event: dict[str, Any]) -> bool:
        """Send one event on the call's data channel; False when it is not open."""
        channel = call.channel
        if channel is None or channel.readyState != "open":
            return False
        try:
            channel.send(json.dumps(event))
        except ValueError:
            # Larger than the browser's data channel takes (its SDP's max-message-size). OpenAI
            # is reported to drop the call without a word when a picture is too big
            # (openai/openai-agents-js#501); so does the fake, once the event is recorded.
            with self.lock:
                call.sent.append({**event, "undeliverable": True})
            self._closing(call)
            return False
        with self.lock:
            call.sent.append(event)
        return True

    def _on_message(self, call: _Call, message: str | bytes) -> None:
        try:
            event = json.loads(message)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            event = {"type": None, "raw": message}
        with self.lock:
            call.received.append(event)
        handler = self._handlers().get(str(event.get("type")))
        if handler is not None:
            handler(call, event)
        elif event["type"] is None:
            self._send_error(call, event, "invalid_json", "The event is not valid JSON.")

    def _handlers(self) -> dict[str, Callable[[_Call, dict[str, Any]], None]]:
        return {
            "response.cancel": self._on_cancel,
            "response.create": self._on_create,
            "output_audio_buffer.clear": self._on_clear,
            "session.update": self._on_session_update,
            "conversation.item.create": self._on_item_create,
        }

    def _send_error(self, call: _Call, cause: dict[str, Any], code: str, message: str,
                    param: str | None = None) -> None:
        self.send(call, _event("error", error={
            "type": "invalid_request_error", "code": code, "message": message, "param": param,
            "event_id": cause.get("event_id"),
        }))

    def _on_item_create(self, call: _Call, event: dict[str, Any]) -> None:
        refused = _item_error(event.get("item"), str(call.session.get("model", "")))
        if refused is not None:
            self._send_error(call, event, *refused)
            return
        previous = call.items[-1]["id"] if call.items else None
        item = {**event["item"], "object": "realtime.item", "status": "completed"}
        item.setdefault("id", _new_id("item"))
        with self.lock:
            call.items.append(item)
        for kind in ("conversation.item.added", "conversation.item.done"):
            if not self.send(call, _event(kind, previous_item_id=previous, item=item)):
                return

    def _answer_text(self, call: _Call, scripted: str) -> str:
        """What the next answer says: the script, or what it sees in the pictures it was shown."""
        fresh = call.items[call.answered:]
        call.answered = len(call.items)
        if not self.script.describe_images:
            return scripted
        return describe_parts([p for p in _image_parts(fresh) if p.type == "input_image"])

    def _on_cancel(self, call: _Call, event: dict[str, Any]) -> None:
        if call.response is None:
            self._send_error(call, event, "response_cancel_not_active",
                             "Cancellation failed: no active response found")
            return
        call.response.cancel.set()

    def _on_create(self, call: _Call, event: dict[str, Any]) -> None:
        if call.response is not None:
            self._send_error(call, event, "conversation_already_has_active_response",
                             "Conversation already has an active response in progress: "
                             f"{call.response.id}. Wait until the response is finished before "
                             "creating a new one.")
            return
        response = self._begin(call, self._answer_text(call, self.script.second_assistant_text))
        self.spawn(call, self.respond(call, response))

    def _on_clear(self, call: _Call, event: dict[str, Any]) -> None:
        call.track.hush()
        response_id = call.response.id if call.response else None
        self.send(call, _event("output_audio_buffer.cleared", response_id=response_id))

    def _on_session_update(self, call: _Call, event: dict[str, Any]) -> None:
        update = event.get("session")
        if isinstance(update, dict):
            call.session = {**call.session, **update}
        self.send(call, _event("session.updated", session=call.session))

    # -- scripted turns ---------------------------------------------------------------------

    def speech_started(self, call: _Call, item_id: str | None = None) -> dict[str, Any]:
        """Send input_audio_buffer.speech_started, as the server VAD does when the user talks."""
        audio_start_ms = int((time.monotonic() - call.started) * 1000)
        event = _event("input_audio_buffer.speech_started", audio_start_ms=audio_start_ms,
                       item_id=item_id or _new_id("item"))
        self.send(call, event)
        return event

    async def user_turn(self, call: _Call, transcript: str | None, reply: str | None,
                        delay: float = 0.0) -> None:
        """Play a user utterance (VAD events + transcription), then the assistant's answer."""
        await asyncio.sleep(delay)
        transcript = self.script.user_transcript if transcript is None else transcript
        reply = self._answer_text(call, self.script.assistant_text) if reply is None else reply
        started = self.speech_started(call)
        item_id = started["item_id"]
        interrupted = call.response
        if interrupted is not None:  # the server VAD interrupts a response the user talks over
            interrupted.cancel_reason = "turn_detected"
            interrupted.cancel.set()
        end_ms = started["audio_start_ms"] + _MS_PER_CHAR * len(transcript)
        self.send(call, _event("input_audio_buffer.speech_stopped", audio_end_ms=end_ms,
                               item_id=item_id))
        self.send(call, _event("conversation.item.input_audio_transcription.completed",
                               item_id=item_id, content_index=0, transcript=transcript))
        if interrupted is not None:  # its response.done goes out before the new response
            await interrupted.finished.wait()
        await self.respond(call, self._begin(call, reply))

    def _begin(self, call: _Call, text: str) -> _Response:
        # Claimed at once, so a second response.create in the same tick sees it as active.
        call.response = _Response(_new_id("resp"), _new_id("item"), text)
        return call.response

    async def respond(self, call: _Call, response: _Response) -> None:
        """Stream one assistant response; stops early when the client cancels it."""
        try:
            self.send(call, _event("response.created", response=_response_body(
                response, "in_progress", [], None)))
            call.track.speak()
            cancelled = await self._stream_deltas(call, response)
            if cancelled:
                call.track.hush()
            else:
                self.send(call, _event("response.output_audio_transcript.done",
                                       **_part_ids(response), transcript=response.text))
            self._send_done(call, response, cancelled)
        finally:
            call.response = None
            response.finished.set()

    async def _stream_deltas(self, call: _Call, response: _Response) -> bool:
        """Send the transcript deltas; True when the client cancelled part way."""
        for delta in _deltas(response.text):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(response.cancel.wait(), self.script.delta_delay)
            if response.cancel.is_set():
                return True
            self.send(call, _event("response.output_audio_transcript.delta",
                                   **_part_ids(response), delta=delta))
            response.spoken.append(delta)
        return response.cancel.is_set()

    def _send_done(self, call: _Call, response: _Response, cancelled: bool) -> None:
        transcript = "".join(response.spoken)
        item = {
            "id": response.item_id, "object": "realtime.item", "type": "message",
            "status": "incomplete" if cancelled else "completed", "role": "assistant",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        status = "cancelled" if cancelled else "completed"
        details = {"type": "cancelled", "reason": response.cancel_reason} if cancelled else None
        body = _response_body(response, status, [item], _usage(transcript))
        self.send(call, _event("response.done", response={**body, "status_details": details}))


_BODY_KEY: Final = web.RequestKey("fake_realtime_body", str)


async def _read_body(request: web.Request) -> str:
    """The request body as text, kept on the request for the access record."""
    body = await request.text()
    request[_BODY_KEY] = body
    return body


def _part_ids(response: _Response) -> dict[str, Any]:
    return {"response_id": response.id, "item_id": response.item_id, "output_index": 0,
            "content_index": 0}


def _response_body(response: _Response, status: str, output: list[dict[str, Any]],
                   usage: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": response.id, "object": "realtime.response", "status": status,
        "status_details": None, "output": output, "conversation_id": "conv_fake",
        "output_modalities": ["audio"], "max_output_tokens": "inf", "usage": usage,
        "metadata": None,
    }


# ---------------------------------------------------------------------------------------------
# The thread-facing fake


class FakeRealtimePeer(BackgroundServer):
    """A fake OpenAI Realtime API on 127.0.0.1, served from a background thread with its loop."""

    label = "fake realtime peer"
    wait_seconds = 5.0

    def __init__(self, port: int = 0, *, accept_keys: Collection[str] | None = None) -> None:
        super().__init__(port)
        self._lock = threading.Lock()
        self._accept_keys = accept_keys
        self._server: _Server | None = None
        self._pending_script = RealtimeScript()

    # -- lifecycle --------------------------------------------------------------------------

    def _before_start(self) -> None:
        # Synthesized here, before the loop runs, so no event loop ever blocks on espeak-ng.
        speech = speech_pcm(self._pending_script.assistant_text)
        self._server = _Server(self._lock, self._accept_keys, speech)
        self._server.script = self._pending_script

    def _thread_context(self) -> AbstractContextManager[object]:
        return loopback_ice()

    def _app(self) -> web.Application:
        return self._require_server().app()

    async def _on_stopped(self) -> None:
        server = self._require_server()
        await asyncio.gather(*(server.close_call(c) for c in server.calls))
        await asyncio.gather(*server.tasks, return_exceptions=True)

    def _require_server(self) -> _Server:
        if self._server is None:
            raise RuntimeError("The fake realtime peer has not been started.")
        return self._server

    # -- addresses --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The base URL, ending in /v1, like OpenAI's."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls_url(self) -> str:
        """Where the browser posts its SDP offer."""
        return f"{self.base_url}/realtime/calls"

    # -- scripting and actions --------------------------------------------------------------

    def script(self, **changes: Any) -> RealtimeScript:
        """Change fields of the `RealtimeScript`; they apply from the next step they govern."""
        with self._lock:
            server = self._server
            current = server.script if server is not None else self._pending_script
            updated = dataclasses.replace(current, **changes)
            self._pending_script = updated
            if server is not None:
                server.script = updated
        return updated

    def trigger_speech_started(self) -> dict[str, Any]:
        """Send input_audio_buffer.speech_started on the latest call, as when the user barges in."""
        return self._in_loop(self._speech_started())

    async def _speech_started(self) -> dict[str, Any]:
        return self._require_server().speech_started(self._latest_call())

    def start_user_turn(self, transcript: str | None = None, reply: str | None = None) -> None:
        """Run another scripted user utterance and assistant answer on the latest call."""
        self._in_loop(self._start_user_turn(transcript, reply))

    async def _start_user_turn(self, transcript: str | None, reply: str | None) -> None:
        server, call = self._require_server(), self._latest_call()
        server.spawn(call, server.user_turn(call, transcript, reply))

    def send_event(self, event: dict[str, Any]) -> bool:
        """Send any server event on the latest call's data channel (adds an event_id)."""
        return self._in_loop(self._send_event({"event_id": _new_id("event"), **event}))

    async def _send_event(self, event: dict[str, Any]) -> bool:
        return self._require_server().send(self._latest_call(), event)

    def hang_up(self) -> None:
        """Close the latest call from the server side, as when OpenAI ends a session."""
        self._in_loop(self._hang_up())

    async def _hang_up(self) -> None:
        await self._require_server().close_call(self._latest_call())

    def _latest_call(self) -> _Call:
        calls = self._require_server().calls
        if not calls:
            raise RuntimeError("No call has been made to the fake realtime peer yet.")
        return calls[-1]

    def _in_loop(self, coro: Coroutine[Any, Any, _T]) -> _T:
        # Calls and their aiortc objects belong to the fake's loop: touch them only there.
        if self._loop is None:
            coro.close()
            raise RuntimeError("The fake realtime peer is not running.")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_THREAD_CALL_TIMEOUT)

    # -- observations -----------------------------------------------------------------------

    @property
    def requests(self) -> list[HttpRecord]:
        """Every HTTP request received, oldest first."""
        with self._lock:
            return list(self._server.requests) if self._server else []

    @property
    def secrets_minted(self) -> list[str]:
        """The ek_ values handed out, oldest first."""
        with self._lock:
            return list(self._server.secrets) if self._server else []

    @property
    def calls(self) -> list[CallRecord]:
        """Snapshots of every call answered, oldest first."""
        with self._lock:
            return [c.snapshot() for c in self._server.calls] if self._server else []

    @property
    def call(self) -> CallRecord | None:
        """A snapshot of the latest call, or None before the first."""
        calls = self.calls
        return calls[-1] if calls else None

    @property
    def received_events(self) -> list[dict[str, Any]]:
        """Events the browser sent on the latest call's data channel."""
        call = self.call
        return call.received_events if call else []

    @property
    def sent_events(self) -> list[dict[str, Any]]:
        """Events the fake sent on the latest call's data channel."""
        call = self.call
        return call.sent_events if call else []

    @property
    def items(self) -> list[dict[str, Any]]:
        """The items the browser created on the latest call, as the fake echoed them."""
        call = self.call
        return call.items if call else []

    @property
    def images(self) -> list[ContentPart]:
        """Every `input_image` part the latest call's conversation took, oldest first."""
        return [p for p in _image_parts(self.items) if p.type == "input_image"]

    @property
    def call_headers(self) -> dict[str, str]:
        """The headers of the latest successful POST /v1/realtime/calls."""
        call = self.call
        return call.headers if call else {}

    @property
    def mic_frames(self) -> int:
        """Audio frames received from the latest call's microphone track."""
        call = self.call
        return call.mic_frames if call else 0

    @property
    def channel_open(self) -> bool:
        """Whether the latest call's oai-events channel is open."""
        call = self.call
        return call.channel_open if call else False

    @property
    def closed(self) -> bool:
        """Whether the latest call's connection or data channel has closed."""
        call = self.call
        return call.closed if call else False

    @property
    def closed_at(self) -> float | None:
        """When (time.monotonic()) the latest call closed."""
        call = self.call
        return call.closed_at if call else None

    def _find_received(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.received_events if e.get("type") == kind), None)

    def wait_for_event(self, kind: str, timeout: float = 5.0) -> dict[str, Any] | None:
        """The first event of type `kind` the browser sent on the latest call, waiting for it."""
        self.wait_for(lambda: self._find_received(kind) is not None, timeout)
        return self._find_received(kind)

    async def wait_for_event_async(self, kind: str,
                                   seconds: float = 5.0) -> dict[str, Any] | None:
        """Like `wait_for_event`, without blocking the caller's event loop."""
        await self.wait_for_async(lambda: self._find_received(kind) is not None, seconds)
        return self._find_received(kind)
