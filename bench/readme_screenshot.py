"""The README's picture: five of the browser tests' screenshots side by side.

Run `make test` (or just `pytest tests/browser`) first, then
`.venv/bin/python -m bench.readme_screenshot`; it writes docs/images/parley.png.
"""

from __future__ import annotations

import base64

from playwright.sync_api import sync_playwright

from tests.browser.conftest import ARTIFACTS, chromium_executable
from tests.live import ROOT

SHOTS = ("01-first-run", "03-speaking", "19-picture-in-the-transcript", "30-living-brief",
         "12-dark")
OUT = ROOT / "docs" / "images" / "parley.png"


def main() -> None:
    images = "".join(
        '<img src="data:image/png;base64,'
        f'{base64.b64encode((ARTIFACTS / f"{name}.png").read_bytes()).decode()}">'
        for name in SHOTS
    )
    html = (
        '<body style="margin:0;padding:28px;display:flex;gap:28px;width:max-content;'
        'background:#e9e7e2"><style>img{width:300px;border-radius:28px;'
        f'box-shadow:0 8px 30px rgb(0 0 0 / 12%)}}</style>{images}</body>'
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable())
        page = browser.new_page(device_scale_factor=2, viewport={"width": 1400, "height": 700})
        page.set_content(html)
        page.locator("body").screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
