"""A real HTTP server that speaks OpenAI's wire format, with scripted replies and faults.

Tests start it in a background thread and point Parley (or the SDK) at ``fake.base_url``::

    with FakeOpenAI() as fake:
        fake.script(Script(fault="429", retry_after=0.2))
        ...  # drive Parley
        assert fake.requests[0].headers["authorization"] == "Bearer sk-test-1234"

Faults can also be triggered from the chat text itself (for browser tests and manual runs):
``[[fault:401]]``, ``[[delay:0.2]]``, ``[[first_delay:0.5]]``, ``[[after:3]]``,
``[[retry_after:2]]``, ``[[status:404]]`` and ``[[reply:some text]]`` in the last user message
(the speech ``input``, the transcription ``prompt`` or the realtime session ``instructions``);
``[[vision]]`` makes the chat reply describe the pictures in that message.

Structured outputs (``response_format`` ``json_schema``) are checked as OpenAI checks a strict
schema (``tests.fakes.openai_structured``), answered with the schema's smallest instance unless
scripted, and scripted and recorded as endpoint ``"brief"``: the living brief's update.

Pictures (``image_url`` content parts) are checked as OpenAI checks them (see
``tests.fakes.openai_images``): only models in ``vision_models`` may see them, and each must be
a link or a base64 data URL of a PNG, JPEG, GIF or WebP. ``Recorded.images`` holds what came.

Command line, for manual runs and benchmarks::

    python -m tests.fakes.openai_server --port 9100 --token-delay 0.02 --first-token-delay 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import io
import json
import math
import re
import secrets
import signal
import sys
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final, Literal, get_args

from aiohttp import web
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from tests.fakes.background import BackgroundServer
from tests.fakes.openai_images import (
    VISION_MODELS,
    ContentPart,
    check_content,
    content_parts,
    describe,
    prompt_image_tokens,
)
from tests.fakes.openai_structured import check_response_format, json_schema, smallest_answer
from tests.fakes.openai_wire import (
    bearer,
    error,
    headers_of,
    invalid_key,
    missing_key,
    unknown_url,
)

Fault = Literal[
    "401",
    "429",
    "429_quota",
    "500",
    "503",
    "hang",
    "hang_after_headers",
    "drop",
    "stall",
    "malformed",
    "error_event",
    "slow_headers",
]
# "brief": chat requests that ask for structured outputs (response_format json_schema), the
# living brief's update after a turn. They go to the same URL; the fake scripts and records
# them apart, so a test of spoken turns is not disturbed by the update that follows each one.
Endpoint = Literal["chat", "brief", "transcriptions", "speech", "realtime"]

FAULTS: Final[frozenset[str]] = frozenset(get_args(Fault))
ENDPOINTS: Final[tuple[Endpoint, ...]] = get_args(Endpoint)

_STATUS_FAULTS: Final = frozenset({"401", "429", "429_quota", "500", "503"})
_WAIT_FAULTS: Final = frozenset({"hang", "slow_headers"})
_CUT_FAULTS: Final = frozenset({"drop", "stall", "malformed", "error_event"})
# Which faults make sense where: a transcription has no body stream to cut short.
SUPPORTED_FAULTS: Final[Mapping[Endpoint, frozenset[str]]] = {
    "chat": FAULTS,
    "brief": FAULTS,
    "speech": _STATUS_FAULTS | _WAIT_FAULTS | {"hang_after_headers", "drop"},
    "transcriptions": _STATUS_FAULTS | _WAIT_FAULTS,
    "realtime": _STATUS_FAULTS | _WAIT_FAULTS,
}

MODEL_IDS: Final = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-mini",
    "whisper-1",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-tts",
    "gpt-realtime",
)
DEFAULT_TRANSCRIPT: Final = "I want to redesign the onboarding flow."
AUDIO_CONTENT_TYPES: Final[Mapping[str, str]] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "pcm": "audio/pcm",
}

# Disconnects must be noticed within 0.1 s, so no wait sleeps longer than this in one go.
_POLL_SECONDS: Final = 0.05
# Handlers notice a stop within one poll; this only bounds a handler stuck in a write.
_SHUTDOWN_GRACE: Final = 1.0
_MAX_UPLOAD: Final = 26 * 1024 * 1024
_SAMPLE_RATE: Final = 24_000

_SERVER_ERROR_MESSAGE: Final = (
    "The server had an error while processing your request. Sorry about that!"
)
_MIDSTREAM_ERROR: Final = (
    b'data: {"error":{"message":"The server had an error while processing your request. '
    b'Sorry about that!","type":"server_error","param":null,"code":null}}\n\n'
)
_MALFORMED_EVENT: Final = b'data: {"id": "chatcmpl-x", "choices": [{\n\n'
_DONE_EVENT: Final = b"data: [DONE]\n\n"

_dumps: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# ---------------------------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True)
class Script:
    """How the fake answers the next request(s) to one endpoint; every field is optional."""

    reply: str | None = None
    pieces: list[str] | None = None  # exact content pieces; overrides tokenizing `reply`
    token_delay: float = 0.0  # seconds between content chunks (audio chunks for speech)
    first_token_delay: float = 0.0  # seconds between the headers and the first content
    fault: Fault | None = None
    fault_after: int = 2  # drop / stall / malformed / error_event: after this many pieces
    retry_after: float = 1.0  # 429: the retry-after the fake asks for
    status: int | None = None  # answer with this HTTP status and an OpenAI error body
    times: int = 1  # how many requests this script answers before the next one applies
    headers_delay: float = 1.0  # slow_headers: seconds before the status line is sent
    # Chat: unless `reply` or `pieces` is set, answer about the pictures in the last user
    # message ("I see 1 image: a 1512x2016 JPEG. ..."), as a model that saw them would.
    describe_images: bool = False


@dataclass(frozen=True)
class Upload:
    """A file received in a multipart upload."""

    filename: str | None
    content_type: str | None
    size: int
    data: bytes = dataclasses.field(repr=False, default=b"")


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    endpoint: Endpoint | None
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed JSON body, or None
    body: bytes = dataclasses.field(repr=False, default=b"")  # raw body (empty for multipart)
    form: dict[str, str] | None = None  # multipart text fields
    upload: Upload | None = None

    @property
    def api_key(self) -> str | None:
        """The bearer token the client sent, if any."""
        return bearer(self.headers.get("authorization"))

    @property
    def content_parts(self) -> list[ContentPart]:
        """Every chat message's content parts, in order (a string content is one text part)."""
        return content_parts(self.json)

    @property
    def images(self) -> list[ContentPart]:
        """The `image_url` parts of the chat messages, in order, exactly as sent."""
        return [part for part in self.content_parts if part.type == "image_url"]


@dataclass(frozen=True)
class StreamStats:
    """A snapshot of one endpoint's connection counters."""

    open: int = 0
    completed: int = 0
    disconnects: int = 0
    max_open: int = 0


# ---------------------------------------------------------------------------------------------
# Reply text


# Like GPT-style pre-tokenizers: contractions split off, words and numbers carry their leading
# space, punctuation runs are their own piece, and whitespace before a word joins that word.
# The alternatives cover every character, so the pieces always join back to the input.
_PIECE_RE: Final = re.compile(
    r"'(?i:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\w\s]|_)+|\s+(?!\S)|\s+"
)
_MARKER_RE: Final = re.compile(r"\[\[(\w+)(?::([^\]]*))?\]\]")  # [[name:value]] or [[name]]


def tokenize(text: str) -> list[str]:
    """Split text into token-like pieces that concatenate back to exactly `text`."""
    return _PIECE_RE.findall(text)


def default_reply(user_text: str) -> str:
    """The deterministic reply to a message when nothing is scripted."""
    topic = " ".join(_MARKER_RE.sub("", user_text).split())[:40] or "your idea"
    return (
        f'Let\'s think about "{topic}". Start with the one screen people see first. '
        "What do they need to decide there?"
    )


class MarkerError(ValueError):
    """A `[[name:value]]` marker in a request that the fake cannot apply."""


def apply_markers(script: Script, text: str, endpoint: Endpoint = "chat") -> Script:
    """`script` overridden by the `[[name:value]]` markers found in `text`."""
    if "[[" not in text:  # the common case stays free of regex work
        return script
    changes: dict[str, Any] = {}
    for name, value in _MARKER_RE.findall(text):
        changes.update(_marker_change(name, value.strip(), endpoint))
    return dataclasses.replace(script, **changes) if changes else script


def _marker_change(name: str, value: str, endpoint: Endpoint) -> dict[str, Any]:
    converters: dict[str, tuple[str, Callable[[str], Any]]] = {
        "delay": ("token_delay", float),
        "first_delay": ("first_token_delay", float),
        "after": ("fault_after", int),
        "retry_after": ("retry_after", float),
        "status": ("status", int),
        "reply": ("reply", str),
    }
    if name == "vision" and endpoint == "chat":
        if value not in ("", "on", "off"):
            raise MarkerError(f"The marker [[vision:{value}]] takes on or off, or no value.")
        return {"describe_images": value != "off"}
    if name == "fault":
        if value not in SUPPORTED_FAULTS[endpoint]:
            raise MarkerError(f"The fake OpenAI has no {endpoint} fault named {value!r}.")
        return {"fault": value}
    if name not in converters:
        raise MarkerError(f"The fake OpenAI does not know the marker [[{name}:...]].")
    field_name, convert = converters[name]
    try:
        return {field_name: convert(value)}
    except ValueError:
        raise MarkerError(f"The marker [[{name}:{value}]] has a bad value.") from None


def _message_text(content: Any) -> str:
    """The text of a chat message's content, which may be a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _message_text(message.get("content"))
    return ""


def _prompt_tokens(messages: list[Any]) -> int:
    # Roughly OpenAI's accounting: a few tokens of framing per message plus the reply priming.
    text_tokens = sum(
        len(tokenize(_message_text(m.get("content")))) for m in messages if isinstance(m, dict)
    )
    return text_tokens + 4 * len(messages) + 3


# ---------------------------------------------------------------------------------------------
# Error bodies


def _rate_limited(model: str, retry_after: float) -> web.Response:
    seconds = max(retry_after, 0.0)
    headers = {
        "retry-after": str(math.ceil(seconds)),
        "retry-after-ms": str(round(seconds * 1000)),
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": f"{seconds:g}s",
    }
    message = (
        f"Rate limit reached for {model} in organization org-fake on requests per min (RPM): "
        f"Limit 500, Used 500, Requested 1. Please try again in {seconds:g}s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    return error(429, message, "requests", "rate_limit_exceeded", headers=headers)


def _out_of_quota() -> web.Response:
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    return error(429, message, "insufficient_quota", "insufficient_quota")


def _status_error(status: int, model: str) -> web.Response:
    """An OpenAI-style error body for an arbitrary HTTP status."""
    if status == 404:
        return error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if status == 503:
        return error(503, "The engine is currently overloaded, please try again later.",
                      "server_error")
    if status >= 500:
        return error(status, _SERVER_ERROR_MESSAGE, "server_error")
    return error(status, f"The fake OpenAI was told to answer {status}.",
                  "invalid_request_error")


def _scripted_error(script: Script, key: str, model: str) -> web.Response | None:
    """The immediate error response a script asks for, if any."""
    fault: str | None = script.fault
    if fault is None and script.status is not None:
        fault = {401: "401", 429: "429", 500: "500"}.get(script.status)
        if fault is None:
            return _status_error(script.status, model)
    if fault == "401":
        return invalid_key(key)
    if fault == "429":
        return _rate_limited(model, script.retry_after)
    if fault == "429_quota":
        return _out_of_quota()
    if fault == "500":
        return error(500, _SERVER_ERROR_MESSAGE, "server_error")
    if fault == "503":
        return _status_error(503, model)
    return None


# ---------------------------------------------------------------------------------------------
# Shared state (mutated on the server's loop, read from test threads)


@dataclass
class _Queued:
    script: Script
    left: int


@dataclass
class _Counters:
    open: int = 0
    completed: int = 0
    disconnects: int = 0
    max_open: int = 0


@dataclass
class _Turn:
    """One request being answered, for the connection counters."""

    endpoint: Endpoint
    stream: bool
    epoch: int  # which reset() generation this request belongs to
    finished: bool = False


class _State:
    """Script queues, recordings and counters behind one lock."""

    def __init__(self, defaults: Script, accept_keys: Collection[str] | None, record: bool,
                 vision_models: Collection[str] = VISION_MODELS):
        self.lock = threading.Lock()
        self.vision_models = frozenset(vision_models)
        self.defaults = defaults
        self.accept_keys = frozenset(accept_keys) if accept_keys is not None else None
        self.record_requests = record
        self.queues: dict[Endpoint, deque[_Queued]] = {e: deque() for e in ENDPOINTS}
        self.records: list[Recorded] = []
        self.counters: dict[Endpoint, _Counters] = {e: _Counters() for e in ENDPOINTS}
        self.stopping = False  # only written on the server loop
        # Benchmarks set this to learn when each chunk of a stream left the fake:
        # called on the server loop with the bytes written and time.monotonic().
        self.on_write: Callable[[bytes, float], None] | None = None
        self.epoch = 0  # bumped by reset(), so requests from before it no longer count

    def enqueue(self, endpoint: Endpoint, script: Script) -> None:
        with self.lock:
            self.queues[endpoint].append(_Queued(script, script.times))

    def take(self, endpoint: Endpoint) -> Script:
        """The script for the next request: the queue's head, or the defaults."""
        with self.lock:
            queue = self.queues[endpoint]
            if not queue:
                return self.defaults
            head = queue[0]
            head.left -= 1
            if head.left <= 0:
                queue.popleft()
            return head.script

    def add_record(self, record: Recorded) -> None:
        if self.record_requests:
            with self.lock:
                self.records.append(record)

    def begin(self, endpoint: Endpoint, stream: bool) -> _Turn:
        with self.lock:
            if stream:
                counters = self.counters[endpoint]
                counters.open += 1
                counters.max_open = max(counters.max_open, counters.open)
            return _Turn(endpoint, stream, self.epoch)

    def end(self, turn: _Turn, client_gone: bool) -> None:
        with self.lock:
            if turn.epoch != self.epoch:
                return  # a previous test's request ending late must not leak into this one
            counters = self.counters[turn.endpoint]
            if turn.stream:
                counters.open -= 1
                counters.completed += turn.finished
            # A stop cuts requests short too, but that is the fake leaving, not the client.
            if not turn.finished and client_gone and not self.stopping:
                counters.disconnects += 1

    def stats(self, endpoint: Endpoint) -> StreamStats:
        with self.lock:
            return StreamStats(**dataclasses.asdict(self.counters[endpoint]))

    def reset(self) -> None:
        with self.lock:
            for queue in self.queues.values():
                queue.clear()
            self.records.clear()
            self.counters = {e: _Counters() for e in ENDPOINTS}
            self.epoch += 1


_STATE: Final = web.AppKey("fake_openai_state", _State)


# ---------------------------------------------------------------------------------------------
# Request plumbing


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _pause(request: web.Request, seconds: float) -> bool:
    """Wait up to `seconds`; False as soon as the client leaves or the fake stops."""
    state = request.app[_STATE]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if state.stopping or _client_gone(request):
            return False
        left = deadline - loop.time()
        if left <= 0:
            return True
        await asyncio.sleep(min(left, _POLL_SECONDS))


async def _hang(request: web.Request) -> None:
    """Wait until the client leaves or the fake stops."""
    await _pause(request, math.inf)


def _cut(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """End a request that will not be answered: the client sees the connection close."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp tries to finish whatever we return and quietly ignores the closed connection.
    return response if response is not None else web.Response()


async def _send(response: web.StreamResponse, data: bytes) -> bool:
    """Write to the client; False when it has gone away."""
    try:
        await response.write(data)
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError subclasses this
        return False
    return True


async def _play(request: web.Request, response: web.StreamResponse,
                segments: Iterable[tuple[float, bytes]]) -> bool:
    """Write (delay, data) segments in order; False when the client or the fake went away."""
    on_write = request.app[_STATE].on_write
    batch: list[bytes] = []
    for delay, data in segments:
        if delay > 0:
            # Data due before a pause goes out first, so the client sees the pause.
            if batch and not await _send(response, b"".join(batch)):
                return False
            if batch and on_write is not None:
                on_write(b"".join(batch), time.monotonic())
            batch = []
            if not await _pause(request, delay):
                return False
        batch.append(data)
    if not batch:
        return True
    sent = await _send(response, b"".join(batch))
    if sent and on_write is not None:
        on_write(b"".join(batch), time.monotonic())
    return sent


async def _finish(response: web.StreamResponse) -> bool:
    try:
        await response.write_eof()
    except ConnectionResetError:
        return False
    return True


async def _read_json(request: web.Request) -> tuple[Any, bytes]:
    raw = await request.read()
    try:
        return json.loads(raw), raw
    except ValueError:  # also covers bodies that are not UTF-8
        return None, raw


def _record(request: web.Request, endpoint: Endpoint | None, body: Any, raw: bytes = b"",
            form: dict[str, str] | None = None, upload: Upload | None = None) -> None:
    state = request.app[_STATE]
    if state.record_requests:
        state.add_record(Recorded(request.method, request.path, endpoint, headers_of(request),
                                  body, raw, form, upload))


def _auth_error(request: web.Request) -> tuple[str, web.Response | None]:
    """The caller's key, and the 401 to answer with when the key is missing or refused."""
    key = bearer(request.headers.get("Authorization"))
    if key is None:
        return "", missing_key()
    accepted = request.app[_STATE].accept_keys
    if accepted is not None and key not in accepted:
        return key, invalid_key(key)
    return key, None


def _bad_json() -> web.Response:
    return error(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)",
        "invalid_request_error",
    )


def _missing(param: str) -> web.Response:
    return error(400, f"Missing required parameter: '{param}'.", "invalid_request_error",
                  "missing_required_parameter", param)


def _prelude(request: web.Request, endpoint: Endpoint, marker_text: str,
                   key: str, model: str) -> Script | web.Response:
    """The script for this request, or the response that already answers it."""
    state = request.app[_STATE]
    try:
        script = apply_markers(state.take(endpoint), marker_text, endpoint)
    except MarkerError as exc:
        return error(400, str(exc), "invalid_request_error")
    failure = _scripted_error(script, key, model)
    return failure if failure is not None else script


async def _before_headers(request: web.Request, script: Script) -> bool:
    """Apply the faults that act before any byte is sent; False when the request is over."""
    if script.fault == "hang":
        await _hang(request)
        return False
    if script.fault == "slow_headers":
        return await _pause(request, script.headers_delay)
    return True


# ---------------------------------------------------------------------------------------------
# Chat completions


class _ChunkFormat:
    """Byte templates for one streamed reply, so each chunk is a cheap concatenation."""

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool):
        meta = (
            f'{{"id":"{completion_id}","object":"chat.completion.chunk","created":{created},'
            f'"model":{_dumps(model)},"service_tier":"default","system_fingerprint":"fp_fake"'
        )
        self._meta = meta.encode()
        self._head = b"data: " + self._meta + b',"choices":[{"index":0,"delta":'
        self._usage_null = b',"usage":null' if include_usage else b""
        self._tail = b',"logprobs":null,"finish_reason":null}]' + self._usage_null + b"}\n\n"

    def role(self) -> bytes:
        return self._head + b'{"role":"assistant","content":"","refusal":null}' + self._tail

    def content(self, piece: str) -> bytes:
        return self._head + b'{"content":' + _dumps(piece).encode() + b"}" + self._tail

    def finish(self, reason: str) -> bytes:
        return (self._head + b'{},"logprobs":null,"finish_reason":"' + reason.encode()
                + b'"}]' + self._usage_null + b"}\n\n")

    def usage(self, usage: dict[str, Any]) -> bytes:
        usage_json = _dumps(usage).encode()
        return b"data: " + self._meta + b',"choices":[],"usage":' + usage_json + b"}\n\n"


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@dataclass(frozen=True)
class _Reply:
    """What one chat request will be answered with."""

    pieces: list[str]
    finish_reason: str
    usage: dict[str, Any]
    completion_id: str
    created: int
    model: str


def _plan_reply(body: dict[str, Any], script: Script, user_text: str) -> _Reply:
    if script.pieces is not None:
        pieces = list(script.pieces)
    elif script.reply is not None:
        pieces = tokenize(script.reply)
    elif script.describe_images:
        pieces = tokenize(describe(body))
    elif (schema := json_schema(body)) is not None:
        pieces = tokenize(smallest_answer(schema))
    else:
        pieces = tokenize(default_reply(user_text))
    finish_reason = "stop"
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(limit, int) and 0 < limit < len(pieces):
        pieces, finish_reason = pieces[:limit], "length"
    return _Reply(
        pieces=pieces,
        finish_reason=finish_reason,
        usage=_usage(_prompt_tokens(body["messages"]) + prompt_image_tokens(body), len(pieces)),
        completion_id="chatcmpl-" + secrets.token_hex(15)[:29],
        created=int(time.time()),
        model=str(body["model"]),
    )


def _validate_chat(body: Any) -> web.Response | None:
    if not isinstance(body, dict):
        return _bad_json()
    if not body.get("model"):
        return error(400, "you must provide a model parameter", "invalid_request_error")
    if not isinstance(body.get("messages"), list):
        return _missing("messages")
    return None


def _sse_events(reply: _Reply, script: Script, fmt: _ChunkFormat,
               include_usage: bool) -> list[tuple[float, bytes]]:
    """The events after the role chunk, each with the pause before it."""
    cut = script.fault in _CUT_FAULTS
    pieces = reply.pieces[: max(script.fault_after, 0)] if cut else reply.pieces
    segments = [(script.token_delay, fmt.content(piece)) for piece in pieces]
    if script.fault == "malformed":
        segments.append((script.token_delay, _MALFORMED_EVENT))
    elif script.fault == "error_event":
        segments.append((script.token_delay, _MIDSTREAM_ERROR))
    elif not cut:
        segments.append((0.0, fmt.finish(reply.finish_reason)))
        if include_usage:
            segments.append((0.0, fmt.usage(reply.usage)))
        segments.append((0.0, _DONE_EVENT))
    if segments:
        segments[0] = (script.first_token_delay, segments[0][1])
    return segments


async def _stream_chat(request: web.Request, body: dict[str, Any], script: Script,
                       reply: _Reply, turn: _Turn) -> web.StreamResponse:
    stream_options = body.get("stream_options")
    include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
    fmt = _ChunkFormat(reply.completion_id, reply.created, reply.model, include_usage)
    if not await _before_headers(request, script):
        return _cut(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
    except ConnectionResetError:
        return _cut(request, response)
    if not await _send(response, fmt.role()):
        return _cut(request, response)
    if script.fault == "hang_after_headers":
        await _hang(request)
        return _cut(request, response)
    if not await _play(request, response, _sse_events(reply, script, fmt, include_usage)):
        return _cut(request, response)
    if script.fault == "drop":  # abruptly: no terminating chunk, no [DONE]
        turn.finished = True
        return _cut(request, response)
    if script.fault == "stall":  # the connection stays open and silent, as a wedged GPU does
        await _hang(request)
        return _cut(request, response)
    turn.finished = await _finish(response)
    return response


def _completion_body(reply: _Reply) -> bytes:
    return _dumps({
        "id": reply.completion_id,
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "".join(reply.pieces),
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": reply.finish_reason,
        }],
        "usage": reply.usage,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }).encode()


async def _complete_chat(request: web.Request, script: Script, reply: _Reply,
                         turn: _Turn) -> web.StreamResponse:
    if not await _before_headers(request, script):
        return _cut(request)
    if not await _pause(request, script.first_token_delay):
        return _cut(request)
    if script.fault == "error_event":  # without a stream, the error can only be the status
        turn.finished = True
        return error(500, _SERVER_ERROR_MESSAGE, "server_error")
    body = _completion_body(reply)
    if script.fault == "malformed":
        body = body[: len(body) // 2]
    elif script.fault in ("hang_after_headers", "drop", "stall"):
        return await _partial_json(request, body, script, turn)
    turn.finished = True
    return web.Response(body=body, content_type="application/json")


async def _partial_json(request: web.Request, body: bytes, script: Script,
                        turn: _Turn) -> web.StreamResponse:
    """Promise the whole body in the headers, then hang or drop partway through."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(body)
    try:
        await response.prepare(request)
    except ConnectionResetError:
        return _cut(request, response)
    if script.fault == "hang_after_headers":
        await _hang(request)
        return _cut(request, response)
    turn.finished = await _send(response, body[: len(body) // 2])
    if script.fault == "stall":
        await _hang(request)
    return _cut(request, response)


async def _chat_handler(request: web.Request) -> web.StreamResponse:
    body, raw = await _read_json(request)
    kind: Endpoint = "brief" if isinstance(body, dict) and json_schema(body) else "chat"
    _record(request, kind, body, raw)
    key, denied = _auth_error(request)
    if denied is not None:
        return denied
    invalid = (
        _validate_chat(body)
        or check_response_format(body)
        or check_content(body["messages"], str(body["model"]), request.app[_STATE].vision_models)
    )
    if invalid is not None:
        return invalid
    user_text = _last_user_text(body["messages"])
    # Markers are read from a person's turn, not from the transcript a brief update quotes.
    decided = _prelude(request, kind, user_text if kind == "chat" else "", key,
                       str(body["model"]))
    if isinstance(decided, web.StreamResponse):
        return decided
    reply = _plan_reply(body, decided, user_text)
    state = request.app[_STATE]
    stream = body.get("stream") is True
    turn = state.begin(kind, stream)
    try:
        if stream:
            return await _stream_chat(request, body, decided, reply, turn)
        return await _complete_chat(request, decided, reply, turn)
    finally:
        state.end(turn, _client_gone(request))


# ---------------------------------------------------------------------------------------------
# Audio: speech


def _tone_seconds(text_length: int) -> float:
    # About how long a voice takes to say that many characters, within sane bounds.
    return min(max(0.25, text_length * 0.06), 30.0)


@functools.lru_cache(maxsize=1)
def _tone_period() -> bytes:
    # 400 Hz divides 24 kHz exactly, so one 60-sample period repeats seamlessly.
    samples = _SAMPLE_RATE // 400
    values = (round(8000 * math.sin(2 * math.pi * i / samples)) for i in range(samples))
    return b"".join(v.to_bytes(2, "little", signed=True) for v in values)


def _pcm(text_length: int) -> bytes:
    """16-bit mono 24 kHz samples of a sine tone whose length grows with the text."""
    period = _tone_period()
    size = int(_tone_seconds(text_length) * _SAMPLE_RATE) * 2
    return (period * (size // len(period) + 1))[:size]


def _wav(text_length: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_SAMPLE_RATE)
        out.writeframes(_pcm(text_length))
    return buffer.getvalue()


def _mp3(text_length: int) -> bytes:
    # MPEG-2 Layer III frames (0xFFF3), 64 kbit/s, 24 kHz mono: 192 bytes per 24 ms of audio.
    frame = b"\xff\xf3\x84\xc4" + bytes(188)
    return frame * math.ceil(_tone_seconds(text_length) / 0.024)


def _filler(magic: bytes, text_length: int) -> bytes:
    # Formats nobody decodes in tests: the right magic bytes, then a size that tracks the text.
    size = int(_tone_seconds(text_length) * 4000)
    return magic + bytes(i % 251 for i in range(size))


@functools.lru_cache(maxsize=256)
def speech_audio(response_format: str, text_length: int) -> bytes:
    """The deterministic audio the fake returns for a text of that length."""
    if response_format == "wav":
        return _wav(text_length)
    if response_format == "pcm":
        return _pcm(text_length)
    if response_format == "mp3":
        return _mp3(text_length)
    magic = {"opus": b"OggS\x00\x02", "aac": b"\xff\xf1\x60\x40", "flac": b"fLaC"}
    return _filler(magic[response_format], text_length)


def _audio_chunks(audio: bytes) -> list[bytes]:
    # At least three chunks, so clients must cope with audio arriving in parts.
    size = max(1, min(4096, math.ceil(len(audio) / 3)))
    return [audio[i : i + size] for i in range(0, len(audio), size)]


def _validate_speech(body: Any) -> web.Response | None:
    if not isinstance(body, dict):
        return _bad_json()
    for param in ("model", "input", "voice"):
        if not body.get(param):
            return _missing(param)
    if not isinstance(body["input"], str) or len(body["input"]) > 4096:
        return error(400, "Input must be a string of at most 4096 characters.",
                      "invalid_request_error", param="input")
    if body.get("response_format", "mp3") not in AUDIO_CONTENT_TYPES:
        return error(400, f"Invalid response_format {body.get('response_format')!r}.",
                      "invalid_request_error", param="response_format")
    return None


async def _stream_audio(request: web.Request, script: Script, audio: bytes,
                        content_type: str, turn: _Turn) -> web.StreamResponse:
    if not await _before_headers(request, script):
        return _cut(request)
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
    except ConnectionResetError:
        return _cut(request, response)
    if script.fault == "hang_after_headers":
        await _hang(request)
        return _cut(request, response)
    chunks = _audio_chunks(audio)
    if script.fault == "drop":
        chunks = chunks[: max(script.fault_after, 0)]
    delays = [script.first_token_delay] + [script.token_delay] * (len(chunks) - 1)
    if not await _play(request, response, zip(delays, chunks, strict=False)):
        return _cut(request, response)
    if script.fault == "drop":
        turn.finished = True
        return _cut(request, response)
    turn.finished = await _finish(response)
    return response


async def _speech_handler(request: web.Request) -> web.StreamResponse:
    body, raw = await _read_json(request)
    _record(request, "speech", body, raw)
    key, denied = _auth_error(request)
    if denied is not None:
        return denied
    invalid = _validate_speech(body)
    if invalid is not None:
        return invalid
    decided = _prelude(request, "speech", body["input"], key, str(body["model"]))
    if isinstance(decided, web.StreamResponse):
        return decided
    response_format = body.get("response_format", "mp3")
    spoken = decided.reply if decided.reply is not None else body["input"]
    audio = speech_audio(response_format, len(_MARKER_RE.sub("", spoken)))
    state = request.app[_STATE]
    turn = state.begin("speech", True)
    try:
        return await _stream_audio(request, decided, audio, AUDIO_CONTENT_TYPES[response_format],
                                   turn)
    finally:
        state.end(turn, _client_gone(request))


# ---------------------------------------------------------------------------------------------
# Audio: transcriptions


async def _read_multipart(request: web.Request) -> tuple[dict[str, str], Upload | None]:
    # The whole body first, then one parse: aiohttp's streaming part reader pushes bytes back
    # (a deprecated call) when a boundary straddles two network chunks, so its behaviour
    # depended on how the upload happened to be split. python-multipart (Starlette's parser)
    # reads one buffer the same way every time.
    form: dict[str, str] = {}
    upload: Upload | None = None
    for headers, data in _multipart_parts(await request.read(), request.headers["Content-Type"]):
        _, disposition = parse_options_header(headers.get("content-disposition", ""))
        name = disposition.get(b"name")
        if name is None:
            continue
        filename = disposition.get(b"filename")
        if filename is not None:
            upload = Upload(filename.decode(), headers.get("content-type"), len(data), data)
        else:
            form[name.decode()] = data.decode("utf-8", "replace")
    return form, upload


def _multipart_parts(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """Each part of a multipart body: its headers (lower-cased names) and its bytes."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        return []
    parts: list[tuple[dict[str, str], bytes]] = []
    headers: dict[str, str] = {}
    field, value, data = bytearray(), bytearray(), bytearray()

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(chunk: bytes, start: int, end: int) -> None:
        field.extend(chunk[start:end])

    def on_header_value(chunk: bytes, start: int, end: int) -> None:
        value.extend(chunk[start:end])

    def on_header_end() -> None:
        headers[field.decode("latin-1").lower()] = value.decode("latin-1")
        field.clear()
        value.clear()

    def on_part_data(chunk: bytes, start: int, end: int) -> None:
        data.extend(chunk[start:end])

    def on_part_end() -> None:
        parts.append((dict(headers), bytes(data)))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    parser.write(body)
    parser.finalize()
    return parts


def _transcription(text: str, form: Mapping[str, str]) -> web.Response | None:
    """The transcription in the requested response_format, or None for an unknown format."""
    response_format = form.get("response_format", "json")
    usage = {"type": "duration", "seconds": 3}
    if response_format == "json":
        return web.Response(body=_dumps({"text": text, "usage": usage}).encode(),
                            content_type="application/json")
    if response_format == "verbose_json":
        segment = {"id": 0, "seek": 0, "start": 0.0, "end": 3.0, "text": " " + text,
                   "tokens": [], "temperature": 0.0, "avg_logprob": -0.2,
                   "compression_ratio": 1.0, "no_speech_prob": 0.01}
        verbose = {"task": "transcribe", "language": form.get("language", "english"),
                   "duration": 3.0, "text": text, "segments": [segment], "usage": usage}
        return web.Response(body=_dumps(verbose).encode(), content_type="application/json")
    if response_format == "text":
        return web.Response(text=text + "\n", content_type="text/plain")
    if response_format == "srt":
        return web.Response(text=f"1\n00:00:00,000 --> 00:00:03,000\n{text}\n\n",
                            content_type="text/plain")
    if response_format == "vtt":
        return web.Response(text=f"WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n{text}\n\n",
                            content_type="text/plain")
    return None


async def _transcriptions_handler(request: web.Request) -> web.StreamResponse:
    multipart = request.content_type == "multipart/form-data"
    if multipart:
        try:
            form, upload = await _read_multipart(request)
        except MultipartParseError:
            return error(400, "Could not parse multipart form", "invalid_request_error")
        _record(request, "transcriptions", None, form=form, upload=upload)
    else:
        form, upload = {}, None
        _record(request, "transcriptions", None, await request.read())
    key, denied = _auth_error(request)  # OpenAI checks the key before the body
    if denied is not None:
        return denied
    if not multipart:
        return error(400, f"Invalid Content-Type header ({request.content_type}), expected "
                      "multipart/form-data.", "invalid_request_error")
    if upload is None:
        return _missing("file")
    if not form.get("model"):
        return _missing("model")
    prompt = form.get("prompt", "")
    decided = _prelude(request, "transcriptions", prompt, key, form["model"])
    if isinstance(decided, web.StreamResponse):
        return decided
    state = request.app[_STATE]
    turn = state.begin("transcriptions", False)
    try:
        if not await _before_headers(request, decided):
            return _cut(request)
        if not await _pause(request, decided.first_token_delay):
            return _cut(request)
        text = decided.reply if decided.reply is not None else DEFAULT_TRANSCRIPT
        answer = _transcription(text, form)
        turn.finished = True
        if answer is None:
            return error(400, f"Invalid response_format {form.get('response_format')!r}.",
                          "invalid_request_error", param="response_format")
        return answer
    finally:
        state.end(turn, _client_gone(request))


# ---------------------------------------------------------------------------------------------
# Realtime client secrets, models, unknown routes


def _client_secret(body: dict[str, Any]) -> bytes:
    session = body.get("session")
    if not isinstance(session, dict):
        session = {}
    expires_after = body.get("expires_after")
    seconds = 600
    if isinstance(expires_after, dict) and isinstance(expires_after.get("seconds"), int):
        seconds = expires_after["seconds"]
    echoed = {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_" + secrets.token_hex(11),
        **{k: v for k, v in session.items() if k not in ("id", "object")},
    }
    return _dumps({
        "value": "ek_fake_" + secrets.token_hex(16),
        "expires_at": int(time.time()) + seconds,
        "session": echoed,
    }).encode()


async def _client_secrets_handler(request: web.Request) -> web.StreamResponse:
    body, raw = await _read_json(request)
    _record(request, "realtime", body, raw)
    key, denied = _auth_error(request)
    if denied is not None:
        return denied
    if not isinstance(body, dict):
        return _bad_json()
    session = body.get("session")
    instructions = session.get("instructions", "") if isinstance(session, dict) else ""
    model = session.get("model", "gpt-realtime") if isinstance(session, dict) else "gpt-realtime"
    decided = _prelude(request, "realtime", str(instructions), key, str(model))
    if isinstance(decided, web.StreamResponse):
        return decided
    state = request.app[_STATE]
    turn = state.begin("realtime", False)
    try:
        if not await _before_headers(request, decided):
            return _cut(request)
        turn.finished = True
        return web.Response(body=_client_secret(body), content_type="application/json")
    finally:
        state.end(turn, _client_gone(request))


_MODELS_BODY: Final = _dumps({
    "object": "list",
    "data": [
        {"id": model_id, "object": "model", "created": 1_715_367_049, "owned_by": "system"}
        for model_id in MODEL_IDS
    ],
}).encode()


async def _models_handler(request: web.Request) -> web.StreamResponse:
    _record(request, None, None)
    _, denied = _auth_error(request)
    if denied is not None:
        return denied
    return web.Response(body=_MODELS_BODY, content_type="application/json")


async def _model_handler(request: web.Request) -> web.StreamResponse:
    _record(request, None, None)
    _, denied = _auth_error(request)
    if denied is not None:
        return denied
    model_id = request.match_info["model"]
    if model_id not in MODEL_IDS:
        return _status_error(404, model_id)
    model = {"id": model_id, "object": "model", "created": 1_715_367_049, "owned_by": "system"}
    return web.Response(body=_dumps(model).encode(), content_type="application/json")


async def _unknown_handler(request: web.Request) -> web.StreamResponse:
    body, raw = await _read_json(request)
    _record(request, None, body, raw)
    return unknown_url(request)


async def _stamp_response(request: web.Request, response: web.StreamResponse) -> None:
    # Every OpenAI response carries these, errors included.
    response.headers["x-request-id"] = "req_" + secrets.token_hex(16)
    response.headers["openai-version"] = "2020-10-01"


def _build_app(state: _State) -> web.Application:
    # One app per server: the state rides on it so handlers stay plain functions.
    app = web.Application(client_max_size=_MAX_UPLOAD)
    app[_STATE] = state
    app.on_response_prepare.append(_stamp_response)
    app.router.add_post("/v1/chat/completions", _chat_handler)
    app.router.add_post("/v1/audio/transcriptions", _transcriptions_handler)
    app.router.add_post("/v1/audio/speech", _speech_handler)
    app.router.add_post("/v1/realtime/client_secrets", _client_secrets_handler)
    app.router.add_get("/v1/models", _models_handler)
    app.router.add_get("/v1/models/{model}", _model_handler)
    # Unmatched paths and methods get OpenAI's JSON 404 rather than aiohttp's plain text.
    app.router.add_route("*", "/{tail:.*}", _unknown_handler)
    return app


# ---------------------------------------------------------------------------------------------
# The server


class FakeOpenAI(BackgroundServer):
    """A fake OpenAI API on 127.0.0.1, served from a background thread with its own loop."""

    label = "fake OpenAI server"
    shutdown_grace = _SHUTDOWN_GRACE

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        defaults: Script | None = None,
        accept_keys: Collection[str] | None = None,
        record: bool = True,
        vision_models: Collection[str] = VISION_MODELS,
    ) -> None:
        super().__init__(port, host=host)
        self._state = _State(defaults or Script(), accept_keys, record, vision_models)

    def _app(self) -> web.Application:
        return _build_app(self._state)

    async def _on_serving(self) -> None:
        self._state.stopping = False

    async def _on_stopping(self) -> None:
        self._state.stopping = True

    # -- addresses ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The base URL to give an OpenAI client, ending in /v1."""
        return f"http://{self._host}:{self.port}/v1"

    # -- scripting ------------------------------------------------------------------------

    def script(self, script: Script, endpoint: Endpoint = "chat") -> None:
        """Queue a script for the endpoint's next `script.times` requests (FIFO)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"Unknown endpoint {endpoint!r}; use one of {ENDPOINTS}.")
        if script.fault is not None and script.fault not in SUPPORTED_FAULTS[endpoint]:
            raise ValueError(f"The {endpoint} endpoint does not support fault {script.fault!r}.")
        if script.times < 1:
            raise ValueError("Script.times must be at least 1.")
        self._state.enqueue(endpoint, script)

    def reset(self) -> None:
        """Forget scripts, recordings and counters; requests still in flight stop counting."""
        self._state.reset()

    def on_write(self, callback: Callable[[bytes, float], None] | None) -> None:
        """Call `callback(data, time.monotonic())` after each chunk of a stream is written."""
        self._state.on_write = callback

    # -- observations ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request received, oldest first."""
        with self._state.lock:
            return list(self._state.records)

    def requests_for(self, endpoint: Endpoint) -> list[Recorded]:
        """A snapshot of the requests received by one endpoint."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def stats(self, endpoint: Endpoint = "chat") -> StreamStats:
        """A consistent snapshot of one endpoint's connection counters."""
        return self._state.stats(endpoint)

    @property
    def disconnects(self) -> int:
        """Chat requests whose client went away before the fake finished answering."""
        return self.stats().disconnects

    @property
    def open_streams(self) -> int:
        """Streamed chat responses in progress right now."""
        return self.stats().open

    @property
    def completed_streams(self) -> int:
        """Streamed chat responses written to their scripted end (faults included).

        Counted as the handler returns, which can be just after the client read the last
        byte: poll with `wait_for` rather than asserting straight away.
        """
        return self.stats().completed

    @property
    def max_open_streams(self) -> int:
        """The most streamed chat responses that were in progress at once."""
        return self.stats().max_open


# ---------------------------------------------------------------------------------------------
# Command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openai_server",
        description="Serve a fake OpenAI API until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
    parser.add_argument("--token-delay", type=float, default=0.0,
                        help="seconds between streamed chunks")
    parser.add_argument("--first-token-delay", type=float, default=0.0,
                        help="seconds before the first streamed content")
    parser.add_argument("--reply", default=None, help="answer every chat with this text")
    parser.add_argument("--vision-models", default=",".join(sorted(VISION_MODELS)),
                        help="comma-separated models that may see pictures")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground, printing its base URL on one line."""
    args = _parse_args(argv)
    defaults = Script(reply=args.reply, token_delay=args.token_delay,
                      first_token_delay=args.first_token_delay)
    # Benchmarks push many thousands of requests through; nobody reads the recordings.
    vision_models = [name.strip() for name in args.vision_models.split(",") if name.strip()]
    fake = FakeOpenAI(args.port, host=args.host, defaults=defaults, record=False,
                      vision_models=vision_models)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    try:
        sys.stdout.write(fake.base_url + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
