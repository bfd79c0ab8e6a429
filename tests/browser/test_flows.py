"""The shared flows (tests/browser/flows.py) in Chromium at the iPhone viewport.

Headless Chromium has no recognizer and no voices: the scripted speech fakes stand in.
The same flows run in WebKitGTK with its real speech engine in tests/webkit/test_flows.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from playwright.sync_api import Page

from tests.browser import flows
from tests.browser.playwright_driver import PlaywrightDriver
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def open_chromium(new_page: Callable[..., Page]) -> flows.Open:
    def open_(url: str, *, storage: Mapping[str, object] | None = None, dark: bool = False,
              init: str = "") -> flows.Driver:
        scheme = "dark" if dark else "light"
        driver = PlaywrightDriver(new_page(storage=storage, init=init, color_scheme=scheme))
        driver.goto(url)
        return driver

    return open_


@pytest.mark.parametrize("flow", flows.FLOWS, ids=lambda flow: flow.__name__)
def test_flow_in_chromium(
    flow: flows.Flow, open_chromium: flows.Open, server: LiveServer, fake: FakeOpenAI
) -> None:
    flow(open_chromium, server.url, fake)
