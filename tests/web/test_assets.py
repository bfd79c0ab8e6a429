"""The static web app: small, self-contained, and free of inline script."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from parley.app import web_root

WEB = web_root()
CODE = [p for p in WEB.rglob("*") if p.suffix in {".html", ".js", ".css"}]


_STATIC_IMPORT = re.compile(r'^import\b[^"\']*["\'](\./[^"\']+|\.\./[^"\']+)["\']', re.M)


def static_closure() -> set[Path]:
    """The modules a page load fetches: app.js and everything it imports statically."""
    seen: set[Path] = set()
    todo = [WEB / "js" / "app.js"]
    while todo:
        module = todo.pop().resolve()
        if module in seen:
            continue
        seen.add(module)
        for spec in _STATIC_IMPORT.findall(module.read_text("utf-8")):
            todo.append(module.parent / spec)
    return seen


def gzipped(paths: set[Path] | list[Path]) -> int:
    return sum(len(gzip.compress(p.read_bytes(), 9)) for p in paths)


def test_a_page_load_weighs_under_54_kb_gzipped() -> None:
    # Each file is compressed on its own, as a server sends it. The service worker and the
    # page's static module graph count; modules imported on demand (turn-taking, the live
    # ear and the recorder, server speech, realtime calls, the sheets) are fetched after the
    # first paint or only by the people who use them. Budgets: 40 KB and 50 KB until the
    # second round added turn-taking, live listening, the Stop control and the seams; 45 KB
    # until the third added pictures, projects and the brief's count (the brief panel and
    # the living brief itself load on demand). Measured 50.5 KB when it was raised to 52;
    # 52.9 KB when the voice-to-voice clock and its readout (timing.js, on every turn) took
    # it to 54.
    loaded = static_closure() | {WEB / "index.html", WEB / "styles.css", WEB / "sw.js"}
    weight = gzipped(loaded)
    everything = gzipped(CODE)
    assert weight < 54 * 1024, f"page load {weight} bytes gzipped (all files {everything})"
    assert everything < 100 * 1024, f"all files {everything} bytes gzipped"


def test_no_third_party_requests() -> None:
    for path in CODE:
        text = path.read_text("utf-8")
        urls = re.findall(r"https?://[^\s\"')]+", text)
        # The SVG namespace is an identifier, not a request.
        assert [u for u in urls if not u.startswith("http://www.w3.org/")] == [], path


def test_no_inline_script_or_handlers() -> None:
    html = (WEB / "index.html").read_text("utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert not re.search(r"\son[a-z]+=", html)
    assert "style=" not in html


def test_model_output_is_never_inserted_as_html() -> None:
    for path in WEB.rglob("*.js"):
        text = path.read_text("utf-8")
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert forbidden not in text, f"{forbidden} in {path.relative_to(WEB)}"


def test_only_the_view_modules_touch_the_dom() -> None:
    dom = re.compile(r"\bdocument\.(querySelector|createElement|getElementById|body)")
    touching = sorted(
        str(p.relative_to(WEB)) for p in WEB.rglob("*.js") if dom.search(p.read_text("utf-8"))
    )
    views = {"js/view.js", "js/dom.js"} | {
        str(p.relative_to(WEB)) for p in (WEB / "js" / "sheets").glob("*.js")
    }
    assert touching and set(touching) <= views, touching


def test_only_api_js_knows_the_urls() -> None:
    for path in WEB.rglob("*.js"):
        if path.name in ("api.js", "sw.js"):
            continue
        assert "/api/" not in path.read_text("utf-8"), path


def test_the_offline_shell_lists_every_file_a_page_load_needs() -> None:
    source = (WEB / "sw.js").read_text("utf-8")
    listed = re.findall(r'"([^"]+)"', source.split("const SHELL = [", 1)[1].split("];", 1)[0])
    assert [name for name in listed if name != "./" and not (WEB / name).exists()] == []
    needed = {str(p.relative_to(WEB.resolve())) for p in static_closure()}
    assert needed <= set(listed)
    assert (WEB / "icons" / "apple-touch-icon.png").exists()


def test_modules_loaded_on_demand_exist() -> None:
    sources = "\n".join(p.read_text("utf-8") for p in WEB.rglob("*.js"))
    assert 'import("./voice/realtime.js")' in sources
    assert "import(`./${name}.js`)" in (WEB / "js" / "voice" / "engines.js").read_text("utf-8")
    for name in ("recorder", "server-speaker", "realtime", "microphone"):
        assert (WEB / "js" / "voice" / f"{name}.js").exists()
