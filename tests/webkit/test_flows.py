"""The shared flows (tests/browser/flows.py) in WebKitGTK at 390 x 844, with its real
speechSynthesis (Flite voices) and no speech fakes."""

from __future__ import annotations

import pytest

from tests.browser import flows
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer
from tests.webkit.conftest import OpenPhone

pytestmark = pytest.mark.webkit

# Flows WebKit fails today because of app bugs; strict, so each flips when its bug is fixed.
KNOWN_BUGS: dict[flows.Flow, str] = {
    flows.typed_reply_is_spoken_then_the_mic_is_idle: (
        "bug: WebKitGTK never ends an utterance it starts as the previous one ends (queued by "
        "speak() while speaking, or spoken inside the previous 'end'); speaker.js queues every "
        "sentence at once and its watchdog gives up only when speechSynthesis.speaking is "
        "false, so the mic stays 'speaking'. Handing each sentence over a task after 'end' works"
    ),
    flows.a_chosen_voice_is_kept: (
        "bug: WebKitGTK's voices (Flite: kal, slt, rms, awb) all have an empty voiceURI; the voice "
        "picker uses voiceURI as the option value, so every choice is saved as '' (default)"
    ),
}


def params() -> list[object]:
    return [
        pytest.param(flow, id=flow.__name__, marks=[pytest.mark.xfail(
            strict=True, reason=KNOWN_BUGS[flow])] if flow in KNOWN_BUGS else [])
        for flow in flows.FLOWS
    ]


@pytest.mark.parametrize("flow", params())
def test_flow_in_webkit(
    flow: flows.Flow, open_phone: OpenPhone, server: LiveServer, fake: FakeOpenAI
) -> None:
    flow(open_phone, server.url, fake)
