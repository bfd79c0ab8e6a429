"""The web app as the server serves it: cache policy and revalidation."""

from __future__ import annotations

import httpx


async def test_cache_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and "<title>Parley</title>" in page.text
    assert page.headers["cache-control"] == "public, max-age=0, must-revalidate"
    script = await client.get("/js/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=0, must-revalidate"
    icon = await client.get("/icons/icon-192.png")
    assert icon.headers["cache-control"] == "public, max-age=31536000, immutable"
    worker = await client.get("/sw.js")
    assert worker.headers["cache-control"] == "no-cache"


async def test_revalidation_answers_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/styles.css")
    again = await client.get("/styles.css", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
