"""Security headers, CORS and the HTTPS redirect."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.live import LiveServer


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/health", "/api/nothing-here", "/js/app.js"):
        response = await client.get(path)
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "microphone=(self)" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # plain HTTP here
    error = await client.post("/api/conversation", content=b"{")
    assert error.headers["x-content-type-options"] == "nosniff"


async def test_hsts_and_redirect_behind_a_trusted_proxy(serve: Callable[..., LiveServer]) -> None:
    server = serve(trusted_proxies=["127.0.0.1"], https_redirect=True)
    async with httpx.AsyncClient(base_url=server.url) as http:
        plain = await http.get("/api/health?x=1")
        assert plain.status_code == 308
        assert plain.headers["location"] == f"https://127.0.0.1:{server.port}/api/health?x=1"
        secure = await http.get("/api/health", headers={"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200
        assert secure.headers["strict-transport-security"].startswith("max-age=")


async def test_forwarded_proto_from_an_untrusted_address_is_ignored(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(trusted_proxies=["10.0.0.1"], https_redirect=True)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 308
    assert "strict-transport-security" not in response.headers


async def test_cors_default_is_same_origin_only(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/conversation",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_exactly_the_configured_origins(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(allowed_origins=["https://app.example"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        good = await http.options(
            "/api/conversation",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, content-type"},
        )
        bad = await http.options(
            "/api/conversation",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert good.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in good.headers
    assert "authorization" in good.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in bad.headers
