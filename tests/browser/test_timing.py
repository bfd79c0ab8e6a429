"""The voice-to-voice readout (timing.js): the total, and where the time went when tapped.

A spoken turn in Chromium at an iPhone viewport, with the fake recognizer and voices, against
a real Parley and the fake OpenAI holding its first token back. The stages are checked by what
must hold whatever the machine's speed: each is there, none is shorter than what the page was
made to wait for, and they add up to the total.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import axe
from tests.browser.conftest import shot
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

KEY = "sk-proj-TIMINGcanary0123456789abcdefXYZ"
QUICK = {"parley.settings": {"pauseSeconds": 0.6, "rememberKey": True}, "parley.apiKey": KEY}
REPLY = "Put the number they care about first. What would they check every morning?"
FIRST_TOKEN_S = 0.4
STAGES = ["endOfTurn", "hearing", "firstSentence", "firstAudio"]
# turn-end.js never ends a turn sooner than this after the last words (DEFAULTS.minMs).
MIN_WAIT_MS = 250


def spoken_turn(new_page: Callable[..., Page], url: str, fake: FakeOpenAI,
                **options: Any) -> Page:
    page = new_page(storage=QUICK, **options)
    page.goto(url)
    fake.script(Script(reply=REPLY, first_token_delay=FIRST_TOKEN_S, token_delay=0.01))
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-available", "true")  # the ear has loaded
    mic.click()
    expect(mic).to_have_attribute("data-state", "listening")
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.say('Our dashboard shows twelve numbers at once')")
    expect(page.get_by_test_id("latency")).to_have_text(re.compile(r"^\d+\.\d s$"), timeout=10000)
    return page


def stored_timing(page: Page) -> dict[str, Any]:
    turns: list[dict[str, Any]] = page.evaluate(
        "JSON.parse(localStorage.getItem('parley.' + localStorage.getItem('parley.current')))"
        ".turns")
    replies = [t for t in turns if t["role"] == "assistant"]
    assert len(replies) == 1
    timing: dict[str, Any] = replies[0]["timing"]
    return timing


def test_tapping_the_readout_shows_the_stages_of_the_turn(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = spoken_turn(new_page, server.url, fake)
    readout = page.get_by_test_id("latency")
    stages = page.get_by_test_id("latency-stages")
    expect(stages).to_be_hidden()
    expect(readout).to_have_attribute("aria-expanded", "false")
    readout.click()
    expect(stages).to_be_visible()
    expect(readout).to_have_attribute("aria-expanded", "true")
    shot(page, "40-latency-stages")
    rows = stages.locator("li")
    expect(rows).to_have_count(4)
    assert [rows.nth(i).get_attribute("data-stage") for i in range(4)] == STAGES
    expect(rows.nth(0)).to_contain_text("Waiting out your pause")
    for i in range(4):
        expect(rows.nth(i)).to_have_text(re.compile(r"(\d+ ms|\d+\.\d s)$"))

    timing = stored_timing(page)
    assert timing["path"] == "browser"
    assert set(timing["stages"]) == set(STAGES)
    # The figures behind the readout: what the page was made to wait for is in them...
    assert timing["stages"]["endOfTurn"] >= MIN_WAIT_MS - 1
    assert timing["stages"]["firstSentence"] >= FIRST_TOKEN_S * 1000 - 1
    # ...and the stages are the total, cut up (each rounded to the millisecond).
    assert abs(sum(timing["stages"].values()) - timing["totalMs"]) <= 4
    assert readout.get_attribute("data-ms") == str(timing["totalMs"])
    assert readout.inner_text() == f"{timing['totalMs'] / 1000:.1f} s"
    first_audio = timing["stages"]["firstAudio"]
    expect(rows.nth(3)).to_have_text(re.compile(
        f"{first_audio} ms$" if first_audio < 1000 else rf"{first_audio / 1000:.1f} s$"))

    readout.press("Escape")
    expect(stages).to_be_hidden()
    expect(readout).to_have_attribute("aria-expanded", "false")


def test_a_typed_turn_has_no_pause_stage_and_the_export_keeps_the_figures(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI
) -> None:
    page = new_page(storage=QUICK)
    page.goto(server.url)
    fake.script(Script(reply=REPLY, first_token_delay=FIRST_TOKEN_S))
    page.get_by_test_id("composer").fill("Twelve numbers on one dashboard")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("latency")).to_have_text(re.compile(r"^\d+\.\d s$"), timeout=10000)
    timing = stored_timing(page)
    assert timing["path"] == "typed"
    assert "endOfTurn" not in timing["stages"]
    assert timing["stages"]["firstSentence"] >= FIRST_TOKEN_S * 1000 - 1
    exported = page.evaluate("""async () => {
        const { toJSON } = await import('/js/exporter.js');
        const id = localStorage.getItem('parley.current');
        return JSON.parse(toJSON(JSON.parse(localStorage.getItem('parley.' + id))));
    }""")
    assert [t.get("timing") for t in exported["turns"]] == [None, timing]


def test_with_metrics_on_the_page_reports_each_turn(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True)
    page = spoken_turn(new_page, server.url, fake)
    timing = stored_timing(page)
    count = 'parley_voice_to_voice_seconds_count{path="browser",stage="total"} 1.0'
    total = 'parley_voice_to_voice_seconds_sum{path="browser",stage="total"} '
    text = ""
    # The report is sent after the first sound, in the background: wait for it, bounded.
    for _ in range(50):
        text = httpx.get(f"{server.url}/metrics").text
        if count in text:
            break
        page.wait_for_timeout(100)
    assert count in text
    line = next(line for line in text.splitlines() if line.startswith(total))
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(timing["totalMs"] / 1000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_breakdown_passes_the_audit(
    new_page: Callable[..., Page], server: LiveServer, fake: FakeOpenAI, scheme: str
) -> None:
    page = spoken_turn(new_page, server.url, fake, color_scheme=scheme,
                       init=axe.axe_source())
    page.get_by_test_id("latency").click()
    expect(page.get_by_test_id("latency-stages")).to_be_visible()
    page.evaluate(axe.SETTLED)
    found = axe.violations(page.evaluate(axe.RUN), f"{scheme}-latency-stages")
    shot(page, f"41-latency-stages-{scheme}")
    assert found == [], "\n".join(str(v) for v in found)
