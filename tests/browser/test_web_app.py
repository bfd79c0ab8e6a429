"""The web app in Chromium at an iPhone viewport, against a real Parley and the fake OpenAI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

pytestmark = pytest.mark.browser

KEY = "sk-proj-BROWSERcanary0123456789abcdefXYZ"
REPLY = (
    "Let them see their money before they set anything up. "
    "Could step one be linking an account? "
    "What's the one number a student cares about on day one?"
)
QUICK = {"parley.settings": {"pauseSeconds": 0.6, "rememberKey": True},
         "parley.apiKey": KEY}


@pytest.fixture
def app_url(server: LiveServer) -> str:
    return server.url


def open_app(new_page: Callable[..., Page], url: str, **kwargs: object) -> Page:
    page = new_page(**kwargs)
    page.goto(url)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    return page


def spoken(page: Page) -> list[str]:
    return [item["text"] for item in page.evaluate("window.__spoken")]


def talk(page: Page, words: str) -> None:
    """Tap the mic, say the words (the fake recognizer hears them), then pause."""
    page.get_by_test_id("mic").click()
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "listening")
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("(w) => window.__recognition.say(w)", words)


def test_a_full_voice_turn_at_iphone_size(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    shot(page, "01-first-run")
    fake.script(Script(reply=REPLY, token_delay=0.02))
    mic = page.get_by_test_id("mic")
    mic.click()
    expect(mic).to_have_attribute("data-state", "listening")
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.say('Our onboarding for a budgeting app', {final: false})")
    expect(page.get_by_test_id("interim")).to_have_text("Our onboarding for a budgeting app")
    shot(page, "02-listening")
    page.evaluate("window.__recognition.say('Our onboarding for a budgeting app feels heavy')")
    expect(mic).to_have_attribute("data-state", "thinking", timeout=5000)
    expect(mic).to_have_attribute("data-state", "speaking", timeout=5000)
    shot(page, "03-speaking")
    # Hands-free: when the reply has been spoken Parley listens again.
    expect(mic).to_have_attribute("data-state", "listening", timeout=10000)
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_have_attribute("data-role", "user")
    expect(messages.nth(0)).to_contain_text("Our onboarding for a budgeting app feels heavy")
    expect(messages.nth(1)).to_have_attribute("data-role", "assistant")
    expect(messages.nth(1)).to_contain_text(REPLY)
    assert spoken(page) == [
        "Let them see their money before they set anything up.",
        "Could step one be linking an account?",
        "What's the one number a student cares about on day one?",
    ]
    latency = page.get_by_test_id("latency")
    expect(latency).to_have_text(re.compile(r"^\d+\.\d s$"))
    assert float(latency.get_attribute("data-ms") or "-1") >= 0
    sent = fake.requests_for("chat")[0]
    assert sent.api_key == KEY
    assert sent.json["messages"][-1]["content"] == "Our onboarding for a budgeting app feels heavy"
    shot(page, "04-after-turn")


def test_first_sentence_is_spoken_while_the_reply_still_streams(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    fake.script(Script(reply=REPLY, token_delay=0.08))
    talk(page, "How should onboarding start")
    page.wait_for_function("() => window.__spoken.length >= 1", timeout=10000)
    # The phone is already speaking the first sentence and the upstream is still mid-reply.
    assert fake.open_streams == 1 and fake.completed_streams == 0
    assert spoken(page)[0] == "Let them see their money before they set anything up."
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "speaking")


def test_tapping_while_parley_speaks_barges_in(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    long_reply = "First point here. " + "And then some more words to say. " * 30
    fake.script(Script(reply=long_reply, token_delay=0.05))
    talk(page, "Tell me everything")
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=10000)
    mic.click()
    # Speech stops at once, the request is aborted (the server cancels upstream)...
    assert "synthesis.cancel" in page.evaluate("window.__speechLog")
    assert fake.wait_for(lambda: fake.disconnects == 1, 2.0)
    # ...the partial reply stays, marked as interrupted, and Parley listens.
    expect(mic).to_have_attribute("data-state", "listening")
    reply = page.get_by_test_id("message").nth(1)
    expect(reply).to_have_attribute("data-interrupted", "true")
    expect(reply).to_contain_text("First point here.")
    text = reply.locator(".text").inner_text()
    assert len(text) < len(long_reply)
    shot(page, "05-interrupted")
    stored = page.evaluate(
        "JSON.parse(localStorage.getItem('parley.' + localStorage.getItem('parley.current')))"
    )
    assert stored["turns"][1]["interrupted"] is True


def test_reload_keeps_the_conversation(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Where would you start with onboarding?")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    page.reload()
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("Where would you start with onboarding?")
    expect(messages.nth(1)).to_contain_text(REPLY)
    # It is listed among the conversations on this device.
    page.get_by_test_id("history-open").click()
    expect(page.get_by_test_id("history").locator("li")).to_have_count(1)
    expect(page.get_by_test_id("history")).to_contain_text("Where would you start with onboarding?")
    shot(page, "06-history")


def test_a_reply_cut_off_by_a_reload_is_kept_as_interrupted(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    fake.script(Script(reply="Half of this arrives. " + "Then more and more. " * 40,
                       token_delay=0.05))
    page.get_by_test_id("composer").fill("Talk for a while")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text("Half of this arrives.")
    page.wait_for_timeout(400)  # let the throttled save of the partial happen
    page.reload()
    reply = page.get_by_test_id("message").nth(1)
    expect(reply).to_contain_text("Half of this arrives.")
    expect(reply).to_have_attribute("data-interrupted", "true")


def test_export_as_markdown_and_json(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Our onboarding has seven steps")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    page.get_by_test_id("export").click()
    shot(page, "07-export")
    with page.expect_download() as info:
        page.get_by_test_id("export-markdown").click()
    markdown_path = tmp_path / "conversation.md"
    info.value.save_as(markdown_path)
    markdown = markdown_path.read_text()
    assert info.value.suggested_filename == "our-onboarding-has-seven-steps.md"
    assert markdown.startswith("# Our onboarding has seven steps\n")
    assert "**You:** Our onboarding has seven steps" in markdown
    assert f"**Parley:** {REPLY}" in markdown
    with page.expect_download() as info:
        page.get_by_test_id("export-json").click()
    json_path = tmp_path / "conversation.json"
    info.value.save_as(json_path)
    data = json.loads(json_path.read_text())
    assert data["format"] == "parley.conversation/1"
    assert [(t["role"], t["content"]) for t in data["turns"]] == [
        ("user", "Our onboarding has seven steps"), ("assistant", REPLY)
    ]
    assert KEY not in markdown and KEY not in json_path.read_text()


def test_a_browser_that_cannot_listen_says_so_and_keeps_the_composer(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    # No key and no offline speech on this server: there is no recorder path either.
    firefox = ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
    page = open_app(
        new_page, app_url, storage={"parley.settings": {"pauseSeconds": 0.6}},
        user_agent=firefox,
        init="delete window.SpeechRecognition; delete window.webkitSpeechRecognition;",
    )
    notice = page.locator("#notice")
    expect(notice).to_be_visible()
    expect(page.get_by_test_id("mic")).to_have_attribute("data-available", "false")
    expect(notice).to_contain_text("Firefox can't turn speech into text yet.")
    page.get_by_test_id("mic").click()
    expect(page.get_by_test_id("status")).to_contain_text("Type instead")
    expect(page.get_by_test_id("composer")).to_be_focused()
    shot(page, "09-cannot-listen")
    page.get_by_test_id("composer").fill("Typed instead")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message").first).to_contain_text("Typed instead")
    expect(page.get_by_test_id("status")).to_have_text(
        "Add your OpenAI API key in Settings to talk to Parley on this server."
    )
    assert fake.requests == []


def test_a_browser_that_cannot_listen_records_for_the_server_instead(
    new_page: Callable[..., Page], app_url: str
) -> None:
    firefox = ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
    page = open_app(
        new_page, app_url, storage=QUICK, user_agent=firefox,
        init="delete window.SpeechRecognition; delete window.webkitSpeechRecognition;",
    )
    # With a key, OpenAI can transcribe a recording: the talk button stays available.
    page.wait_for_function("() => document.querySelector('#mic').dataset.available === 'true'")
    expect(page.locator("#notice")).to_be_hidden()


def test_a_recognizer_that_never_starts_is_treated_as_missing(
    new_page: Callable[..., Page], app_url: str
) -> None:
    page = open_app(new_page, app_url, storage=QUICK, init="window.__deadRecognizer = true;")
    page.evaluate("window.__recognition.mode = 'dead'")
    page.get_by_test_id("mic").click()
    expect(page.get_by_test_id("status")).to_contain_text("didn't start", timeout=5000)
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    expect(page.locator("#notice")).to_be_visible()


def test_an_invalid_key_gets_a_human_message_and_is_never_shown(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage={**QUICK, "parley.apiKey": KEY})
    fake.script(Script(fault="401"))
    talk(page, "Is this thing on")
    status = page.get_by_test_id("status")
    expect(status).to_have_text("OpenAI rejected this API key. Check it in Settings.")
    expect(page.get_by_role("button", name="Open Settings")).to_be_visible()
    shot(page, "10-invalid-key")
    page.get_by_role("button", name="Open Settings").click()
    expect(page.get_by_test_id("api-key")).to_be_visible()
    shot(page, "11-settings")
    html = page.content()
    assert KEY not in html and KEY[-4:] not in html
    assert page.get_by_test_id("api-key").input_value() == ""


def test_recognition_errors_get_clear_words(
    new_page: Callable[..., Page], app_url: str
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    page.get_by_test_id("mic").click()
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.error('not-allowed')")
    expect(page.get_by_test_id("status")).to_contain_text("Parley needs the microphone")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    page.get_by_test_id("mic").click()
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.error('service-not-allowed')")
    expect(page.get_by_test_id("status")).to_contain_text("Enable Dictation")
    expect(page.locator("#notice")).to_be_visible()


def test_thinking_aloud_survives_the_recognizers_own_silence_cutoff(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage={**QUICK, "parley.settings": {
        "pauseSeconds": 1.2, "rememberKey": True}})
    talk(page, "So the first screen")
    page.evaluate("window.__recognition.endSession()")  # Chrome stops after a silence
    page.wait_for_function("() => window.__recognition.instances >= 2")
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.say('asks for income')")
    expect(page.get_by_test_id("message").first).to_contain_text(
        "So the first screen asks for income", timeout=5000
    )


def test_keyboard_only(new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").focus()
    page.keyboard.type("Keyboard only question")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    # Tab from the composer backwards reaches the talk button; Space starts listening.
    page.get_by_test_id("mic").focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "listening")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("mic")).to_have_attribute("data-state", "idle")
    # Settings open from the keyboard and close with Escape.
    page.get_by_test_id("settings").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#settings-sheet")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#settings-sheet")).to_be_hidden()
    # Every control can be reached with Tab.
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.dataset.testid || ''"))
    assert {"mic", "composer", "settings", "new-conversation", "mode", "export"} <= reached


def test_dark_theme_follows_the_system(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK, color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(19, 19, 22)"
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("How dark is too dark for a finance app?")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    shot(page, "12-dark")


def test_push_to_talk_listens_only_while_held(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage={**QUICK, "parley.settings": {
        "turns": "push-to-talk", "pauseSeconds": 4, "rememberKey": True}})
    fake.script(Script(reply=REPLY))
    mic = page.get_by_test_id("mic")
    box = mic.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(mic).to_have_attribute("data-state", "listening")
    page.wait_for_function("() => window.__recognition.active !== null")
    page.evaluate("window.__recognition.say('Held while talking', {final: false})")
    page.mouse.up()  # releasing ends the turn at once, long before the 4 s pause
    expect(page.get_by_test_id("message").first).to_contain_text("Held while talking")
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    # Push-to-talk waits after the reply instead of listening again.
    expect(mic).to_have_attribute("data-state", "idle", timeout=10000)
    page.wait_for_timeout(300)
    expect(mic).to_have_attribute("data-state", "idle")


def test_talking_over_parley_interrupts_it_but_its_own_echo_does_not(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage={**QUICK, "parley.settings": {
        "voiceBarge": True, "pauseSeconds": 0.8, "rememberKey": True}})
    long_reply = "Start with the first screen. " + "Keep every step short and kind. " * 30
    fake.script(Script(reply=long_reply, token_delay=0.03))
    talk(page, "Where do I start")
    mic = page.get_by_test_id("mic")
    expect(mic).to_have_attribute("data-state", "speaking", timeout=10000)
    page.wait_for_function("() => window.__recognition.active !== null")
    # The microphone hears Parley's own words: nothing happens.
    page.evaluate("window.__recognition.say('start with the first screen', {final: false})")
    page.wait_for_timeout(200)
    expect(mic).to_have_attribute("data-state", "speaking")
    # The person talks: Parley stops and listens.
    page.evaluate("window.__recognition.say('wait what about returning users', {final: false})")
    expect(mic).to_have_attribute("data-state", "listening")
    assert "synthesis.cancel" in page.evaluate("window.__speechLog")
    expect(page.get_by_test_id("message").nth(1)).to_have_attribute("data-interrupted", "true")


def test_settings_are_kept_and_sent(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    page.get_by_test_id("mode").select_option("critique")
    page.reload()
    expect(page.get_by_test_id("mode")).to_have_value("critique")
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Five screens and a progress bar")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    assert "critique" in fake.requests_for("chat")[0].json["messages"][0]["content"].lower()


def test_a_key_not_remembered_lives_only_in_this_tab(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage={"parley.settings": {"pauseSeconds": 0.6}})
    expect(page.locator("#welcome-note")).to_contain_text("Add your OpenAI API key")
    page.get_by_test_id("settings").click()
    page.locator("#remember-key").uncheck()
    page.get_by_test_id("api-key").fill(KEY)
    page.get_by_test_id("settings-close").click()
    assert page.evaluate("localStorage.getItem('parley.apiKey')") is None
    assert json.loads(page.evaluate("sessionStorage.getItem('parley.apiKey')")) == KEY
    expect(page.locator("#welcome-note")).to_contain_text("Answers come from OpenAI")
    fake.script(Script(reply=REPLY))
    page.get_by_test_id("composer").fill("Hello")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
    assert fake.requests_for("chat")[0].api_key == KEY
    page.get_by_test_id("settings").click()
    page.get_by_test_id("api-key-clear").click()
    assert page.evaluate("sessionStorage.getItem('parley.apiKey')") is None
    assert KEY not in page.content()


def test_new_delete_and_delete_all_conversations(
    new_page: Callable[..., Page], app_url: str, fake: FakeOpenAI
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    page.on("dialog", lambda dialog: dialog.accept())
    for topic in ("First topic", "Second topic", "Third topic"):
        fake.script(Script(reply=REPLY))
        page.get_by_test_id("composer").fill(topic)
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("message").nth(1)).to_contain_text(REPLY)
        page.get_by_test_id("new-conversation").click()
        expect(page.get_by_test_id("message")).to_have_count(0)
    page.get_by_test_id("history-open").click()
    items = page.get_by_test_id("history").locator("li")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("Third topic")  # newest first
    items.filter(has_text="Second topic").get_by_role("button", name="Delete").click()
    expect(items).to_have_count(2)
    items.filter(has_text="First topic").locator(".open").click()
    expect(page.get_by_test_id("message").first).to_contain_text("First topic")
    page.get_by_test_id("history-open").click()
    page.get_by_test_id("delete-all").click()
    expect(items).to_have_count(0)
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('parley.') "
                         "&& k.match(/[0-9a-f]{8}-/)).length") == 0


def test_installable_as_a_home_screen_app(
    new_page: Callable[..., Page], app_url: str
) -> None:
    page = open_app(new_page, app_url, storage=QUICK)
    manifest_url = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.request.get(f"{app_url}/{manifest_url}").json()
    assert manifest["display"] == "standalone" and manifest["short_name"] == "Parley"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    touch = page.locator("link[rel=apple-touch-icon]").get_attribute("href")
    size = page.evaluate(
        """async (src) => { const img = new Image(); img.src = src; await img.decode();
        return [img.naturalWidth, img.naturalHeight]; }""", touch)
    assert size == [180, 180]
    assert "viewport-fit=cover" in (page.locator("meta[name=viewport]").get_attribute("content")
                                    or "")
    # The offline shell: a service worker takes control.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => Boolean(r.active))")


def test_offline_model_is_labelled_when_the_server_has_it(
    new_page: Callable[..., Page], serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(local_model="auto")
    page = open_app(new_page, server.url, storage={"parley.settings": {"pauseSeconds": 0.6}})
    expect(page.locator("#welcome-note")).to_contain_text("offline model")
    page.get_by_test_id("settings").click()
    expect(page.locator("#provider-choice")).to_contain_text("Offline model")
    expect(page.locator("input[name=provider][value=local]")).to_be_enabled()
    page.keyboard.press("Escape")
    page.get_by_test_id("composer").fill("How do I make onboarding less overwhelming?")
    page.get_by_test_id("send").click()
    reply = page.get_by_test_id("message").nth(1)
    expect(reply).to_have_attribute("data-pending", "false", timeout=30000)
    assert len(reply.locator(".text").inner_text().split()) >= 5
    assert fake.requests == []
