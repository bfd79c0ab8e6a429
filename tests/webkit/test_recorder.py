"""The recorder path in WebKitGTK: it has no SpeechRecognition, so Parley records each turn
with MediaRecorder (audio/mp4, the only type it offers) from the mock microphone, a steady
tone with a beep each second, and the server transcribes it.

The tone never falls silent, so a second tap ends the turn. Each recording is kept in
test-artifacts/webkit/ (the sample in tests/data came from here).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from parley.speech.formats import without_repeated_boxes
from tests.browser.flows import QUICK, Driver, open_app, wait_attr, wait_text
from tests.fakes.openai_server import DEFAULT_TRANSCRIPT, FakeOpenAI, Script
from tests.live import LiveServer, Serve
from tests.webkit.conftest import ARTIFACTS, OpenPhone

pytestmark = pytest.mark.webkit

# Notes what reaches /api/transcribe and what comes back, when recording began, and every
# microphone stream the page opened. Without AudioWorklets the page cannot stream to the
# server's live ear and falls back to recording whole turns: that fallback is tested here.
CAPTURE = """
delete window.AudioWorkletNode;
window.__uploads = [];
window.__streams = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (url, init = {}) => {
  const audio = init.body instanceof FormData ? init.body.get("audio") : null;
  if (!audio) return realFetch(url, init);
  const upload = { type: audio.type, name: audio.name, size: audio.size,
                   language: init.body.get("language"), audio };
  window.__uploads.push(upload);
  const response = await realFetch(url, init);
  upload.status = response.status;
  upload.body = await response.clone().text();
  return response;
};
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await getUserMedia(constraints);
  window.__streams.push(stream);
  return stream;
};
const Recorder = window.MediaRecorder;
window.MediaRecorder = class extends Recorder {
  constructor(...args) {
    super(...args);
    this.addEventListener("start", () => { window.__recordingSince = performance.now(); });
  }
};
"""
RECORD_MS = 2000
UPLOAD = """window.__uploads.length && (({audio, ...rest}) => rest)(window.__uploads[0])"""
AUDIO_BASE64 = """new Promise((done) => { const reader = new FileReader();
  reader.onload = () => done(reader.result.split(",")[1]);
  reader.readAsDataURL(window.__uploads[0].audio); })"""
# BCP 47 as a browser reports it: "en", "en-US", "zh-Hant-TW".
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def record_a_turn(d: Driver, name: str) -> dict[str, Any]:
    """Tap, record RECORD_MS of the mock microphone, tap again; what was sent and answered."""
    wait_attr(d, "mic", "data-available", "true", timeout=10)
    d.click("mic")
    wait_attr(d, "mic", "data-state", "listening")
    d.wait_until(f"window.__recordingSince && performance.now() - window.__recordingSince "
                 f"> {RECORD_MS}", timeout=10)
    d.click("mic")
    upload: dict[str, Any] = d.wait_until(f"{UPLOAD}?.status && {UPLOAD}", timeout=30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.mp4").write_bytes(base64.b64decode(d.evaluate(AUDIO_BASE64)))
    return upload


def microphone_released(d: Driver) -> bool:
    return bool(d.evaluate("window.__streams.length === 1 && window.__streams.every("
                           "(s) => s.getTracks().every((t) => t.readyState === 'ended'))"))


def test_webkit_has_no_recognizer_so_a_turn_is_recorded_as_mp4_for_openai(
    open_phone: OpenPhone, server: LiveServer, fake: FakeOpenAI
) -> None:
    d = open_app(open_phone, server.url, storage=QUICK, init=CAPTURE)
    assert d.evaluate("'SpeechRecognition' in window || 'webkitSpeechRecognition' in window") \
        is False
    fake.script(Script(reply="Start with the first screen. What do people decide there?"))
    upload = record_a_turn(d, "recording-openai")
    assert upload["type"] == "audio/mp4" and upload["name"] == "turn.m4a"
    assert upload["language"] == "en-US"
    assert upload["status"] == 200, upload["body"]
    # What OpenAI received: the recording, labelled as Parley passes MP4 on...
    sent = fake.requests_for("transcriptions")[0]
    assert sent.upload is not None and sent.upload.content_type == "audio/mp4"
    assert sent.upload.data[4:8] == b"ftyp"
    # ...less WebKitGTK's repeated boxes: nothing of it repeats any more.
    assert len(sent.upload.data) < upload["size"]
    assert without_repeated_boxes(sent.upload.data) == sent.upload.data
    wait_text(d, "message", DEFAULT_TRANSCRIPT.rstrip("."), nth=0, timeout=10)
    wait_attr(d, "message", "data-pending", "false", nth=1, timeout=10)
    assert microphone_released(d)
    d.screenshot("webkit-10-recorded-turn")


# WebKitGTK's MediaRecorder writes its ftyp and last moof twice; Parley drops the copies
# before FFmpeg sees them (formats.without_repeated_boxes, tests/speech/test_webkit_recording.py).
@pytest.mark.speech_models
def test_a_recorded_turn_is_transcribed_by_the_offline_whisper(
    open_phone: OpenPhone, serve: Serve
) -> None:
    server = serve(local_stt="auto")
    d = open_app(open_phone, server.url, storage={"parley.settings": {"pauseSeconds": 0.6}},
                 init=CAPTURE)
    upload = record_a_turn(d, "recording-whisper")
    assert upload["type"] == "audio/mp4"
    assert upload["status"] == 200, upload["body"]


def test_the_transcription_language_is_a_language_tag_even_in_the_c_locale(
    open_phone: OpenPhone, server: LiveServer, fake: FakeOpenAI
) -> None:
    d = open_app(open_phone, server.url, storage=QUICK, init=CAPTURE, locale="C.UTF-8")
    assert d.evaluate("navigator.language") == "C"  # what WebKitGTK reports there
    upload = record_a_turn(d, "recording-c-locale")
    assert upload["language"] is None or LANGUAGE_TAG.fullmatch(upload["language"])
    assert upload["status"] == 200, upload["body"]
