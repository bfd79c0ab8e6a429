"""The flows' Driver for Chromium, through Playwright."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.browser.conftest import ARTIFACTS, shot
from tests.browser.flows import Download


class PlaywrightDriver:
    engine = "chromium"

    def __init__(self, page: Page) -> None:
        self.page = page
        self._errors: list[str] = []
        page.on("pageerror", lambda exc: self._errors.append(str(exc)))

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def reload(self) -> None:
        self.page.reload()

    def click(self, testid: str, nth: int = 0) -> None:
        self.page.get_by_test_id(testid).nth(nth).click()

    def fill(self, testid: str, text: str) -> None:
        self.page.get_by_test_id(testid).fill(text)

    def press_enter(self, testid: str) -> None:
        self.page.get_by_test_id(testid).press("Enter")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def attr(self, testid: str, name: str, nth: int = 0) -> str | None:
        return self.page.get_by_test_id(testid).nth(nth).get_attribute(name)

    def text(self, testid: str, nth: int = 0) -> str:
        return self.page.get_by_test_id(testid).nth(nth).inner_text()

    def count(self, testid: str) -> int:
        return self.page.get_by_test_id(testid).count()

    def evaluate(self, js: str) -> Any:
        return self.page.evaluate(f"() => ({js})")

    def wait_until(self, js_predicate: str, timeout: float = 5.0) -> Any:
        try:
            # As a function: Playwright evals a bare expression, which the app's CSP forbids.
            handle = self.page.wait_for_function(f"() => ({js_predicate})",
                                                 timeout=timeout * 1000)
        except PlaywrightError as error:
            raise AssertionError(
                f"Not true within {timeout:g} s: {js_predicate}"
                f" (status: {self.page.locator('#status').inner_text()!r}; {error.message})"
            ) from None
        return handle.json_value()

    def screenshot(self, name: str) -> Path:
        shot(self.page, name)
        return ARTIFACTS / f"{name}.png"

    def download(self, testid: str) -> Download:
        with self.page.expect_download() as info:
            self.click(testid)
        path = info.value.path()
        return Download(info.value.suggested_filename, Path(path).read_text())

    def errors(self) -> list[str]:
        return list(self._errors)
