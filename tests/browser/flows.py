"""The web app's flows written once, for any engine: Chromium (Playwright) and WebKit (Selenium).

A flow gets an `Open` (a fresh phone-sized browser on a URL, with seeded storage) and the fake
OpenAI server, and drives the page through the small `Driver` interface below: elements by
`data-testid`, and conditions as JavaScript expressions the page evaluates until they hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.browser import axe
from tests.fakes.openai_server import FakeOpenAI, Script

KEY = "sk-proj-FLOWScanary0123456789abcdefXYZ"
REPLY = (
    "Let them see their money before they set anything up. "
    "Could step one be linking an account? "
    "What's the one number a student cares about on day one?"
)
QUICK: dict[str, object] = {
    "parley.settings": {"pauseSeconds": 0.6, "rememberKey": True},
    "parley.apiKey": KEY,
}
# What the fake upstream answers to the living brief's update (structured outputs).
BRIEF = json.dumps({
    "title": "Student onboarding",
    "sections": {
        "problem": [{"text": "Students drop off at the <b>income</b> question", "turn": 0}],
        "audience": [{"text": "Students new to budgeting", "turn": 0}],
        "constraints": [], "decisions": [], "ideas": [], "openQuestions": [],
        "nextSteps": [{"text": "Test a shorter flow", "turn": None}],
    },
    "conflicts": [], "retracted": [],
})
DARK_BACKGROUND = "rgb(19, 19, 22)"


@dataclass(frozen=True)
class Download:
    name: str
    text: str


class Driver(Protocol):
    """One open page in one engine. `testid` is an element's data-testid; `nth` picks one."""

    engine: str  # "chromium" or "webkit"

    def goto(self, url: str) -> None: ...
    def reload(self) -> None: ...
    def click(self, testid: str, nth: int = 0) -> None: ...
    def fill(self, testid: str, text: str) -> None: ...
    def press_enter(self, testid: str) -> None: ...
    def press(self, key: str) -> None:
        """A key on whatever has the focus: "Enter", "Escape", "Tab", "Shift+Tab"."""
        ...
    def attr(self, testid: str, name: str, nth: int = 0) -> str | None: ...
    def text(self, testid: str, nth: int = 0) -> str: ...
    def count(self, testid: str) -> int: ...
    def evaluate(self, js: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited)."""
        ...
    def wait_until(self, js_predicate: str, timeout: float = 5.0) -> Any:
        """Evaluate the expression until it is truthy and return it; AssertionError on timeout."""
        ...
    def screenshot(self, name: str) -> Path:
        """The whole viewport, once entrance animations have finished."""
        ...
    def download(self, testid: str) -> Download:
        """Click something that downloads a file; the file's name and text."""
        ...
    def errors(self) -> list[str]:
        """Uncaught JavaScript errors on the page so far."""
        ...


class Open(Protocol):
    """A fresh iPhone-sized browser (no storage, no cookies) showing `url`."""

    def __call__(
        self, url: str, *, storage: Mapping[str, object] | None = None, dark: bool = False,
        init: str = "",
    ) -> Driver: ...


def all_by_testid(testid: str) -> str:
    """A JavaScript expression for every element with this data-testid."""
    return f"document.querySelectorAll({json.dumps(f'[data-testid={testid!r}]')})"


def by_testid(testid: str, nth: int = 0) -> str:
    """A JavaScript expression for the nth element with this data-testid (or undefined)."""
    return f"{all_by_testid(testid)}[{nth}]"


def seed_script(storage: Mapping[str, object]) -> str:
    """An init script that puts these localStorage entries in place before the first load."""
    seed = ";".join(
        f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))})"
        for k, v in storage.items()
    )
    return ("if (!sessionStorage.getItem('seeded')) {"
            f"{seed}; sessionStorage.setItem('seeded', '1')}}")


def wait_attr(d: Driver, testid: str, name: str, value: str, *, nth: int = 0,
              timeout: float = 5.0) -> None:
    element = by_testid(testid, nth)
    d.wait_until(f"{element}?.getAttribute({json.dumps(name)}) === {json.dumps(value)}", timeout)


def wait_text(d: Driver, testid: str, part: str, *, nth: int = 0, timeout: float = 5.0) -> None:
    element = by_testid(testid, nth)
    d.wait_until(f"({element}?.innerText || '').includes({json.dumps(part)})", timeout)


def open_app(open_: Open, url: str, **kwargs: Any) -> Driver:
    """The app, loaded and wired: app.js has set up the talk button, which is idle."""
    d = open_(url, **kwargs)
    # data-state="idle" is in the HTML already; data-available is set only by app.js.
    d.wait_until(f"{by_testid('mic')}?.dataset.available !== undefined "
                 f"&& {by_testid('mic')}.dataset.state === 'idle'", timeout=10)
    return d


def send_typed_turn(d: Driver, fake: FakeOpenAI, words: str, reply: str = REPLY,
                    token_delay: float = 0.0) -> None:
    """Type a turn, send it with Enter, and wait for the whole reply on screen."""
    fake.script(Script(reply=reply, token_delay=token_delay))
    d.fill("composer", words)
    d.press_enter("composer")
    wait_attr(d, "message", "data-pending", "false", nth=1, timeout=10)


# The flows -----------------------------------------------------------------------------------


def page_loads_and_wires_its_modules(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    # The health answer reached the view through api.js and app.js.
    d.wait_until("document.getElementById('welcome-note').textContent.includes('OpenAI')")
    # Listening is possible: the browser's recognizer, or (WebKitGTK has none) the recorder
    # module, fetched once the server says it can transcribe.
    wait_attr(d, "mic", "data-available", "true")
    assert d.text("status") == ""
    assert d.evaluate("window.matchMedia('(prefers-color-scheme: dark)').matches") is False
    d.screenshot(f"{d.engine}-01-loaded")
    assert d.errors() == []


def first_run_welcome(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage={"parley.settings": {"pauseSeconds": 0.6}})
    d.wait_until("document.getElementById('welcome-note').textContent !== ''")
    welcome = d.evaluate("document.getElementById('welcome').innerText")
    assert "Think out loud." in welcome
    assert "Add your OpenAI API key in Settings to start." in welcome
    assert d.evaluate("document.querySelectorAll('#welcome .prompt').length") == 3
    assert d.count("message") == 0
    # No key and no speech-to-text on the server: only a browser that can listen offers the
    # microphone (Chromium's scripted recognizer); WebKitGTK has none and says so.
    can_listen = d.evaluate("'SpeechRecognition' in window || 'webkitSpeechRecognition' in window")
    wait_attr(d, "mic", "data-available", "true" if can_listen else "false")
    notice = d.evaluate("document.getElementById('notice').hidden ? '' "
                        ": document.getElementById('notice').innerText")
    if can_listen:
        assert notice == ""
    else:
        assert notice == "This browser can't turn speech into text. You can type instead."
    d.screenshot(f"{d.engine}-02-welcome")


def typed_turn_streams_the_reply(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    fake.script(Script(reply=REPLY, token_delay=0.02))
    d.fill("composer", "Our onboarding for a budgeting app feels heavy")
    d.press_enter("composer")
    # Streaming: part of the reply is on screen while the rest is still arriving.
    d.wait_until(f"{by_testid('message', 1)}?.dataset.pending === 'true' "
                 f"&& {by_testid('message', 1)}.innerText.includes('Let them see')")
    wait_attr(d, "message", "data-pending", "false", nth=1, timeout=10)
    assert d.count("message") == 2
    assert d.attr("message", "data-role", 0) == "user"
    assert d.text("message", 0).endswith("Our onboarding for a budgeting app feels heavy")
    assert d.attr("message", "data-role", 1) == "assistant"
    assert REPLY in d.text("message", 1)
    assert d.evaluate(f"{by_testid('composer')}.value") == ""
    sent = fake.requests_for("chat")[0]
    assert sent.api_key == KEY
    assert sent.json["messages"][-1]["content"] == "Our onboarding for a budgeting app feels heavy"
    d.screenshot(f"{d.engine}-03-typed-turn")
    assert d.errors() == []


# Counts what the engine is asked to cancel and which utterances it ends by itself.
COUNT_SPEECH = """
(() => {
  window.__cancels = 0;
  window.__ended = [];
  const synth = window.speechSynthesis;
  const cancel = synth.cancel.bind(synth);
  synth.cancel = () => { window.__cancels += 1; cancel(); };
  const speak = synth.speak.bind(synth);
  synth.speak = (u) => {
    u.addEventListener("end", () => window.__ended.push(u.text));
    speak(u);
  };
})();
"""


def typed_reply_is_spoken_then_the_mic_is_idle(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK, init=COUNT_SPEECH)
    # The device voice speaks each sentence as it arrives; then Parley waits (typed turn).
    send_typed_turn(d, fake, "Is two sentences enough?", reply="Yes. Keep it short.")
    d.wait_until(f"['speaking', 'idle'].includes({by_testid('mic')}.dataset.state)")
    wait_attr(d, "mic", "data-state", "idle", timeout=10)
    assert d.text("status") == ""
    # Each sentence ended by itself, one after the other: no deadline had to cut one off.
    assert d.evaluate("window.__ended.filter((t) => t.trim())") == ["Yes.", "Keep it short."]
    assert d.evaluate("window.__cancels") == 0


def settings_sheet_opens_and_closes(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    d.click("settings")
    d.wait_until("document.getElementById('settings-sheet').open")
    d.wait_until("document.getElementById('api-key').getBoundingClientRect().height > 0")
    # The device's voices are offered (the engine's own list, or the scripted fakes').
    d.wait_until("document.querySelectorAll('#voice option').length > 1")
    d.screenshot(f"{d.engine}-04-settings")
    d.click("settings-close")
    d.wait_until("!document.getElementById('settings-sheet').open")
    assert KEY not in d.evaluate("document.documentElement.outerHTML")


def a_chosen_voice_is_kept(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    d.click("settings")
    d.wait_until("document.querySelectorAll('#voice option').length > 2")
    # The second of the device's voices, chosen as a person would (input, then change).
    chosen = d.evaluate(
        "(() => { const select = document.getElementById('voice'); select.selectedIndex = 2;"
        " select.dispatchEvent(new Event('input', {bubbles: true}));"
        " select.dispatchEvent(new Event('change', {bubbles: true}));"
        " return select.selectedOptions[0].textContent; })()")
    d.click("settings-close")
    d.reload()
    d.wait_until(f"{by_testid('mic')}?.dataset.available !== undefined")
    d.click("settings")
    d.wait_until("document.querySelectorAll('#voice option').length > 2")
    assert d.evaluate("document.getElementById('voice').selectedOptions[0].textContent") == chosen


def history_lists_the_conversation(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    send_typed_turn(d, fake, "Where would you start with onboarding?")
    d.click("history-open")
    d.wait_until("document.getElementById('history-sheet').open")
    d.wait_until("document.querySelectorAll('#history li').length === 1")
    assert "Where would you start with onboarding?" in d.text("history")
    d.screenshot(f"{d.engine}-05-history")


def export_markdown_has_the_transcript(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    send_typed_turn(d, fake, "Our onboarding has seven steps")
    d.click("export")
    d.wait_until("document.getElementById('export-sheet').open")
    d.screenshot(f"{d.engine}-06-export")
    markdown = d.download("export-markdown")
    assert markdown.name == "our-onboarding-has-seven-steps.md"
    assert markdown.text.startswith("# Our onboarding has seven steps\n")
    assert "**You:** Our onboarding has seven steps" in markdown.text
    assert f"**Parley:** {REPLY}" in markdown.text
    assert KEY not in markdown.text


def brief_fills_in_from_the_conversation(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    fake.script(Script(reply=BRIEF), "brief")
    send_typed_turn(d, fake, "Students drop off at the income question")
    d.wait_until("document.getElementById('brief-count').textContent === '3'", timeout=10)
    d.click("brief")
    d.wait_until("document.getElementById('brief-sheet').open")
    assert d.evaluate("[...document.querySelectorAll('#brief-body h3')].map(h => h.textContent)"
                      ) == ["Problem", "Audience", "Next steps"]
    # What a model wrote is shown as text, never as HTML.
    assert d.evaluate("document.querySelector('[data-section=problem] .brief-text').textContent"
                      ) == "Students drop off at the <b>income</b> question"
    assert d.evaluate("document.querySelector('#brief-body b')") is None
    d.wait_until("!document.getElementById('brief-actions').hidden")
    d.screenshot(f"{d.engine}-07-brief")
    (update,) = fake.requests_for("brief")
    assert update.json["response_format"]["json_schema"]["strict"] is True
    assert "[0] Designer: Students drop off at the income question" in (
        update.json["messages"][1]["content"])
    brief = d.download("brief-download")
    assert brief.name.endswith("-brief.md")
    assert brief.text.startswith("# Student onboarding\n")
    assert "## Audience\n- Students new to budgeting\n" in brief.text


def dark_theme_follows_the_system(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK, dark=True)
    assert d.evaluate("window.matchMedia('(prefers-color-scheme: dark)').matches") is True
    assert d.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    send_typed_turn(d, fake, "How dark is too dark for a finance app?")
    d.screenshot(f"{d.engine}-08-dark")
    d.click("settings")
    d.wait_until("document.getElementById('settings-sheet').open")
    d.screenshot(f"{d.engine}-09-dark-settings")


# Accessibility ------------------------------------------------------------------------------


def audit(d: Driver, screen: str, *, picture: bool = True) -> list[axe.Violation]:
    """axe-core's violations on what the page shows now, once entrance animations are done;
    and a picture of it (test-artifacts/<lane>/<engine>-a11y-<screen>.png) to look at."""
    d.evaluate(axe.SETTLED)
    found = axe.violations(d.evaluate(axe.RUN), f"{d.engine}-{screen}")
    if picture:
        d.screenshot(f"{d.engine}-a11y-{screen}")
    return found


def audit_sheet(d: Driver, sheet: str, screen: str) -> list[axe.Violation]:
    """An open sheet audited top to bottom: axe checks the colours of what is on screen."""
    dialog = f"document.getElementById({json.dumps(sheet)})"
    pages = d.evaluate(f"Math.ceil({dialog}.scrollHeight / {dialog}.clientHeight)")
    found: dict[tuple[str, str], axe.Violation] = {}
    for page in range(max(int(pages), 1)):
        d.evaluate(f"{dialog}.scrollTop = {page} * {dialog}.clientHeight * 0.8")
        for violation in audit(d, screen if page == 0 else f"{screen}-{page + 1}"):
            seen = found.get((violation.rule, violation.impact))
            nodes = [*(seen.nodes if seen else []), *violation.nodes]
            unique = list({n["target"]: n for n in nodes}.values())
            found[(violation.rule, violation.impact)] = axe.Violation(
                screen=violation.screen, rule=violation.rule, impact=violation.impact,
                help=violation.help, nodes=unique)
    d.evaluate(f"{dialog}.scrollTop = 0")
    return list(found.values())


def close_sheet(d: Driver, sheet: str) -> None:
    d.evaluate(f"document.querySelector('#{sheet} button[value=close]').click()")
    d.wait_until(f"!document.getElementById('{sheet}').open")


def audit_every_screen(open_: Open, url: str, fake: FakeOpenAI, *, dark: bool) -> None:
    theme = "dark" if dark else "light"
    found: list[axe.Violation] = []
    # First run: no key yet. (One browser for it all: WebKitWebDriver drives one at a time.)
    d = open_app(open_, url, storage={"parley.settings": {"pauseSeconds": 0.6}}, dark=dark,
                 init=axe.axe_source())
    d.wait_until("document.getElementById('welcome-note').textContent !== ''")
    found += audit(d, f"{theme}-main-first-run")
    d.click("settings")
    d.wait_until("document.getElementById('settings-sheet').open")
    found += audit_sheet(d, "settings-sheet", f"{theme}-settings")
    d.fill("api-key", KEY)
    d.click("settings-close")
    d.wait_until("!document.getElementById('settings-sheet').open")
    d.wait_until("document.getElementById('welcome-note').textContent.includes('OpenAI (')")
    # A conversation: a typed turn answered by the fake OpenAI, and the brief it fills in.
    fake.script(Script(reply=BRIEF), "brief")
    send_typed_turn(d, fake, "Our onboarding has seven steps")
    wait_attr(d, "mic", "data-state", "idle", timeout=10)
    found += audit(d, f"{theme}-conversation")
    d.click("history-open")
    d.wait_until("document.querySelectorAll('#history li').length === 1")
    found += audit_sheet(d, "history-sheet", f"{theme}-conversations")
    close_sheet(d, "history-sheet")
    d.click("export")
    d.wait_until("document.getElementById('export-sheet').open")
    found += audit_sheet(d, "export-sheet", f"{theme}-export")
    close_sheet(d, "export-sheet")
    d.wait_until("document.getElementById('brief-count').textContent === '3'", timeout=10)
    d.click("brief")
    d.wait_until("!document.getElementById('brief-actions').hidden")
    found += audit_sheet(d, "brief-sheet", f"{theme}-brief")
    close_sheet(d, "brief-sheet")
    d.click("project")
    d.wait_until("document.getElementById('projects-sheet').open")
    found += audit_sheet(d, "projects-sheet", f"{theme}-projects")
    close_sheet(d, "projects-sheet")
    # A turn that fails: the error in the transcript, its button, the status line.
    fake.script(Script(fault="401"))
    d.fill("composer", "And the second screen?")
    d.press_enter("composer")
    d.wait_until("document.querySelector('[data-role=error]')")
    found += audit(d, f"{theme}-error")
    record = axe.ARTIFACTS / f"{d.engine}-{theme}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps([v.__dict__ for v in found], indent=1))
    # None at all: not only no serious or critical ones (each one is listed, worst first).
    found.sort(key=lambda v: axe.IMPACTS.index(v.impact))
    assert found == [], "\n".join(str(v) for v in found)


FOCUSED = "document.activeElement?.dataset.testid || document.activeElement?.id || ''"


def sheets_work_from_the_keyboard(open_: Open, url: str, fake: FakeOpenAI) -> None:
    d = open_app(open_, url, storage=QUICK)
    send_typed_turn(d, fake, "Students drop off at the income question")
    wait_attr(d, "mic", "data-state", "idle", timeout=10)
    for opener, sheet in (("settings", "settings-sheet"), ("history-open", "history-sheet"),
                          ("export", "export-sheet"), ("brief", "brief-sheet"),
                          ("project", "projects-sheet")):
        d.evaluate(f"{by_testid(opener)}.focus()")
        assert d.evaluate(FOCUSED) == opener
        d.press("Enter")
        dialog = f"document.getElementById({json.dumps(sheet)})"
        d.wait_until(f"{dialog}.open && {dialog}.contains(document.activeElement)")
        d.press("Escape")
        d.wait_until(f"!{dialog}.open")
        # The focus is back where it was, so the next Tab goes on from there.
        d.wait_until(f"({FOCUSED}) === {json.dumps(opener)}")


def accessible_in_the_light(open_: Open, url: str, fake: FakeOpenAI) -> None:
    audit_every_screen(open_, url, fake, dark=False)


def accessible_in_the_dark(open_: Open, url: str, fake: FakeOpenAI) -> None:
    audit_every_screen(open_, url, fake, dark=True)


Flow = Callable[[Open, str, FakeOpenAI], None]

# Every flow, in the order a person meets them. Each lane runs them all.
FLOWS: list[Flow] = [
    page_loads_and_wires_its_modules,
    first_run_welcome,
    typed_turn_streams_the_reply,
    typed_reply_is_spoken_then_the_mic_is_idle,
    settings_sheet_opens_and_closes,
    a_chosen_voice_is_kept,
    history_lists_the_conversation,
    export_markdown_has_the_transcript,
    brief_fills_in_from_the_conversation,
    dark_theme_follows_the_system,
    accessible_in_the_light,
    accessible_in_the_dark,
    sheets_work_from_the_keyboard,
]
