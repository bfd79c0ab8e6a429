"""The WebKit lane: the web app in WebKitGTK (iPhone's engine family) at 390 x 844.

One Xvfb and one WebKitWebDriver serve the whole run; every test gets fresh browser sessions
(a new phone_browser.py process with an empty profile). JavaScript errors fail the test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pytest
from selenium.common.exceptions import WebDriverException

from tests.browser.conftest import pytest_runtest_makereport  # noqa: F401  (rep_call for shots)
from tests.browser.flows import seed_script
from tests.live import ROOT
from tests.webkit import lane
from tests.webkit.selenium_driver import SeleniumDriver

ARTIFACTS = ROOT / "test-artifacts" / "webkit"
# A phone reports a language tag such as en-US; WebKit takes it from the process locale.
PHONE_LOCALE = "en_US.UTF-8"


class OpenPhone(Protocol):
    def __call__(
        self, url: str, *, storage: Mapping[str, object] | None = None, dark: bool = False,
        init: str = "", locale: str = PHONE_LOCALE,
    ) -> SeleniumDriver: ...


@pytest.fixture(scope="session")
def webkit_lane() -> Iterator[lane.Lane]:
    reason = lane.missing()
    if reason:
        pytest.skip(reason)
    with lane.Lane(ARTIFACTS / "logs") as running:
        yield running


@pytest.fixture
def open_phone(
    webkit_lane: lane.Lane, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[OpenPhone]:
    """Open the app in new phone-sized WebKit sessions; all are closed after the test."""
    opened: list[SeleniumDriver] = []

    def open_(
        url: str, *, storage: Mapping[str, object] | None = None, dark: bool = False,
        init: str = "", locale: str = PHONE_LOCALE,
    ) -> SeleniumDriver:
        home = tmp_path / f"phone-{len(opened)}"
        downloads = home / "downloads"
        downloads.mkdir(parents=True)
        args = [f"--profile={home / 'profile'}", f"--downloads={downloads}",
                f"--errors={home / 'errors.txt'}", f"--locale={locale}"]
        for number, script in enumerate(s for s in (storage and seed_script(storage), init) if s):
            path = home / f"init-{number}.js"
            path.write_text(script)
            args.append(f"--init-script={path}")
        if dark:
            args.append("--dark")
        driver = SeleniumDriver(webkit_lane.session(args), downloads, home / "errors.txt",
                                ARTIFACTS)
        opened.append(driver)
        driver.goto(url)
        return driver

    yield open_
    report = getattr(request.node, "rep_call", None)
    errors: list[str] = []
    for number, driver in enumerate(opened):
        if report is not None and report.failed:
            try:
                driver.screenshot(f"FAILED-{request.node.name}-{number}")
            except WebDriverException:
                pass  # the browser died with the test: no picture
        errors += driver.errors()
        driver.quit()
    assert not errors, f"JavaScript errors on the page: {errors}"
