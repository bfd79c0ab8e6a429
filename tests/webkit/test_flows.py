"""The shared flows (tests/browser/flows.py) in WebKitGTK at 390 x 844, with its real
speechSynthesis (Flite voices) and no speech fakes."""

from __future__ import annotations

import pytest

from tests.browser import flows
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer
from tests.webkit.conftest import OpenPhone

pytestmark = pytest.mark.webkit

@pytest.mark.parametrize("flow", flows.FLOWS, ids=lambda flow: flow.__name__)
def test_flow_in_webkit(
    flow: flows.Flow, open_phone: OpenPhone, server: LiveServer, fake: FakeOpenAI
) -> None:
    flow(open_phone, server.url, fake)
