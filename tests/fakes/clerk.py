"""A fake Clerk instance: a real JWKS endpoint on loopback, and session tokens it signs.

Runs on the test's own event loop (aiohttp), so use it from async tests::

    async with FakeClerk() as clerk:
        verifier = ClerkVerifier(clerk.issuer)
        await verifier.owner(clerk.token("user_123"))
"""

from __future__ import annotations

import functools
import json
import time
from types import TracebackType
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KID = "ins_test_key_1"
AZP = "https://parley.example"


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key per name, made once per test run (they take a moment)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeClerk:
    """Serves `/.well-known/jwks.json` with one RS256 key; counts and can fail fetches."""

    def __init__(self) -> None:
        self.key = rsa_key("clerk")
        self.kid = KID
        self.fetches = 0
        self.fail = False  # answer 503, like an outage
        self._runner: web.AppRunner | None = None
        self.issuer = ""

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    async def _jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.fail:
            return web.Response(status=503, text="unavailable")
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return web.json_response({"keys": [jwk]})

    def token(
        self,
        sub: str = "user_2abc",
        *,
        expires_in: float = 60,
        issuer: str | None = None,
        azp: str | None = AZP,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A session token shaped like Clerk's, signed with this instance's key by default."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": sub,
            "iss": issuer or self.issuer,
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + expires_in,
            "sid": "sess_test",
        }
        if azp is not None:
            payload["azp"] = azp
        payload.update(claims)
        return jwt.encode(
            payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    async def __aenter__(self) -> FakeClerk:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.issuer = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
