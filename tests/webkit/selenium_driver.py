"""The flows' Driver for WebKitGTK, through Selenium and WebKitWebDriver."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver import Remote
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.flows import Download

POLL_SECONDS = 0.05
# Playwright's key names, as WebDriver sends them.
KEYS = {"Enter": Keys.ENTER, "Escape": Keys.ESCAPE, "Tab": Keys.TAB, "Shift": Keys.SHIFT,
        "Space": Keys.SPACE}
# Let entrance animations (a sheet rising) finish, then two frames: WebKitGTK paints the
# last state only after a frame, and an earlier capture shows the sheet half-way.
SETTLE = """
await Promise.all(document.getAnimations()
  .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
  .map((a) => a.finished.catch(() => null)));
await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
"""


def _selector(testid: str) -> str:
    return f"[data-testid={json.dumps(testid)}]"


class SeleniumDriver:
    engine = "webkit"

    def __init__(self, driver: Remote, downloads: Path, errors: Path, artifacts: Path) -> None:
        self.driver = driver
        self.downloads = downloads
        self._errors = errors
        self.artifacts = artifacts

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def reload(self) -> None:
        self.driver.refresh()

    def _element(self, testid: str, nth: int, timeout: float = 5.0) -> WebElement:
        deadline = time.monotonic() + timeout
        while True:
            found = self.driver.find_elements(By.CSS_SELECTOR, _selector(testid))
            if len(found) > nth:
                return found[nth]
            if time.monotonic() > deadline:
                raise AssertionError(f"No element #{nth} with data-testid={testid!r}")
            time.sleep(POLL_SECONDS)

    def click(self, testid: str, nth: int = 0) -> None:
        # As Playwright does: wait until the element can take the click (a sheet may still
        # be rising over it), then click once.
        deadline = time.monotonic() + 5.0
        while True:
            try:
                self._element(testid, nth).click()
                return
            except (ElementClickInterceptedException, ElementNotInteractableException,
                    StaleElementReferenceException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(POLL_SECONDS)

    def fill(self, testid: str, text: str) -> None:
        element = self._element(testid, 0)
        element.clear()
        element.send_keys(text)

    def press_enter(self, testid: str) -> None:
        self._element(testid, 0).send_keys(Keys.ENTER)

    def press(self, key: str) -> None:
        *held, last = key.split("+")
        chain = ActionChains(self.driver)
        for modifier in held:
            chain.key_down(KEYS[modifier])
        chain.send_keys(KEYS.get(last, last))
        for modifier in reversed(held):
            chain.key_up(KEYS[modifier])
        chain.perform()

    def attr(self, testid: str, name: str, nth: int = 0) -> str | None:
        value = self._element(testid, nth).get_dom_attribute(name)
        return None if value is None else str(value)

    def text(self, testid: str, nth: int = 0) -> str:
        return str(self._element(testid, nth).text)

    def count(self, testid: str) -> int:
        return len(self.driver.find_elements(By.CSS_SELECTOR, _selector(testid)))

    def evaluate(self, js: str) -> Any:
        # WebDriver awaits a returned promise; the script runs as a function, outside the CSP.
        return self.driver.execute_script(f"return ({js});")

    def wait_until(self, js_predicate: str, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        problem = ""
        while True:
            try:
                value = self.evaluate(js_predicate)
                if value:
                    return value
            except JavascriptException as error:  # e.g. mid-navigation
                problem = f"; last error: {error.msg}"
            if time.monotonic() > deadline:
                status = self.driver.execute_script(
                    "return document.getElementById('status')?.innerText")
                raise AssertionError(
                    f"Not true within {timeout:g} s: {js_predicate} (status: {status!r}{problem})"
                )
            time.sleep(POLL_SECONDS)

    def screenshot(self, name: str) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.driver.execute_script(f"return (async () => {{ {SETTLE} }})();")
        path = self.artifacts / f"{name}.png"
        path.write_bytes(self.driver.get_screenshot_as_png())
        return path

    def download(self, testid: str) -> Download:
        for old in self.downloads.iterdir():
            old.unlink()
        self.click(testid)
        # phone_browser.py saves into .partial-NAME and renames it to NAME when complete.
        deadline = time.monotonic() + 10
        while True:
            done = [p for p in self.downloads.iterdir() if not p.name.startswith(".partial-")]
            if done:
                return Download(done[0].name, done[0].read_text())
            if time.monotonic() > deadline:
                raise AssertionError(f"Nothing was downloaded within 10 s of clicking {testid!r}")
            time.sleep(POLL_SECONDS)

    def errors(self) -> list[str]:
        if not self._errors.exists():
            return []
        return [json.loads(line) for line in self._errors.read_text().splitlines()]

    def quit(self) -> None:
        try:
            self.driver.quit()
        except WebDriverException:
            pass  # the browser is gone already; the driver reaps it
