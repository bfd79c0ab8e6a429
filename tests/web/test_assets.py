"""The static web app: small, self-contained, and free of inline script."""

from __future__ import annotations

import gzip
import re

from parley.app import web_root

WEB = web_root()
CODE = [p for p in WEB.rglob("*") if p.suffix in {".html", ".js", ".css"}]


def test_html_js_and_css_weigh_under_40_kb_gzipped() -> None:
    total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in CODE)
    assert CODE and total < 40 * 1024, f"{total} bytes gzipped"


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


def test_only_view_js_touches_the_dom() -> None:
    dom = re.compile(r"\bdocument\.(querySelector|createElement|getElementById|body)")
    touching = sorted(
        str(p.relative_to(WEB)) for p in WEB.rglob("*.js") if dom.search(p.read_text("utf-8"))
    )
    assert touching == ["js/view.js"]


def test_only_api_js_knows_the_urls() -> None:
    for path in WEB.rglob("*.js"):
        if path.name in ("api.js", "sw.js"):
            continue
        assert "/api/" not in path.read_text("utf-8"), path


def test_the_offline_shell_lists_every_file_of_the_app() -> None:
    source = (WEB / "sw.js").read_text("utf-8")
    listed = re.findall(r'"([^"]+)"', source.split("const SHELL = [", 1)[1].split("];", 1)[0])
    assert [name for name in listed if name != "./" and not (WEB / name).exists()] == []
    scripts = {str(p.relative_to(WEB)) for p in WEB.rglob("*.js")} - {"sw.js"}
    assert scripts <= set(listed)
    assert (WEB / "icons" / "apple-touch-icon.png").exists()
