"""Browser tests: a real Parley server, a real Chromium (Playwright), scripted speech engines."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.live import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "browser"
FAKES = Path(__file__).with_name("speech_fakes.js")

# Launch flags for a machine with no internet: without the background-networking flags
# Chromium keeps trying to reach Google and its connections are refused.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    # Realtime calls: a granted microphone that plays a test tone, and WebRTC on loopback
    # (Chromium leaves lo out of ICE by default, and the fake Realtime peer listens there).
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]

IPHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
}


def chromium_executable() -> str | None:
    """Debian's Chromium when installed; otherwise Playwright's own download."""
    candidates = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


# Module scope, not session: Playwright's sync API runs its own event loop, which must be
# gone before pytest-asyncio's tests in other folders run theirs.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh iPhone-sized contexts; JavaScript errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(
        *, fakes: bool = True, storage: dict[str, Any] | None = None, init: str = "",
        **context_options: Any,
    ) -> Page:
        context = browser.new_context(**{**IPHONE, **context_options})
        contexts.append(context)
        if fakes:
            context.add_init_script(path=str(FAKES))
        if init:
            context.add_init_script(script=init)
        if storage:
            seed = ";".join(
                f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))})"
                for k, v in storage.items()
            )
            context.add_init_script(script=f"if (!sessionStorage.getItem('seeded')) {{{seed};"
                                           "sessionStorage.setItem('seeded', '1')}")
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                name = f"FAILED-{request.node.name}-{index}-{number}.png"
                page.screenshot(path=str(ARTIFACTS / name))
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of a state worth looking at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Let entrance animations (a sheet rising, a message appearing) finish, or the picture
    # shows a half-transparent sheet; looping ones (the speaking wave) never finish.
    page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter(a => a.effect && a.effect.getTiming().iterations !== Infinity)"
        ".map(a => a.finished.catch(() => null)))"
    )
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
