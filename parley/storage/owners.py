"""Who owns history: a device (the hash of its secret) or a signed-in Clerk user.

Never log a device secret, a session token or a key: only what kind of problem it had.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jwt
from jwt import PyJWK, PyJWKSet

from parley import errors
from parley.config import Settings
from parley.security.keys import bearer_value, is_session_token

log = logging.getLogger(__name__)

DEVICE_HEADER = "X-Parley-Device"
CLERK_PREFIX = "clerk:"
# 256 random bits, as 64 hex characters or 43 unpadded base64url characters.
_HEX_SECRET = re.compile(r"[0-9a-fA-F]{64}")
_B64_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_SUBJECT = 200
_JWKS_LIFESPAN = 300.0  # seconds a fetched key set is trusted before it is fetched again
REFRESH_SECONDS = 30.0  # the key set is fetched at most this often, whatever tokens say
_MAX_KID = 200
_MAX_UNKNOWN = 10_000

EXPIRED = "Your sign-in has expired. Sign in again."
NOT_VERIFIED = "Your sign-in could not be verified. Sign in again."


class IdentityConfigError(ValueError):
    """The Clerk settings cannot work together; the message says what to set."""


def device_owner(secret: str) -> str:
    """The owner id for a device secret: the SHA-256 of its 32 bytes, in hex."""
    value = secret.strip()
    if _HEX_SECRET.fullmatch(value):
        raw = bytes.fromhex(value)
    elif _B64_SECRET.fullmatch(value):
        raw = base64.urlsafe_b64decode(value + "=")
    else:
        raise errors.InvalidDevice()
    # A plain hash is enough: 256 random bits cannot be guessed back from it. Hashing the
    # bytes, not the text, makes both spellings of one secret the same owner.
    return hashlib.sha256(raw).hexdigest()


class ClerkVerifier:
    """Checks Clerk session tokens: RS256 signature from the JWKS, issuer, expiry, azp.

    The key set is fetched without blocking (the HTTP client is async), kept for a few
    minutes, and fetched again at most once per `REFRESH_SECONDS` whatever tokens arrive:
    a key id that is not in the set is remembered as unknown, so junk tokens cost a dict
    look-up, never a request to Clerk.
    """

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        authorized_parties: Sequence[str] = (),
        leeway: float = 10.0,
        timeout: float = 5.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks.json"
        self.leeway = leeway
        self._timeout = timeout
        self._parties = frozenset(party.rstrip("/") for party in authorized_parties)
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -_JWKS_LIFESPAN
        self._next_fetch = 0.0
        self._unknown: dict[str, float] = {}  # key id -> when it may be looked for again
        self._lock = asyncio.Lock()

    async def owner(self, token: str, *, origins: Sequence[str] = ()) -> str:
        """`clerk:<user id>` for a valid session token; raises Unauthenticated otherwise.

        `origins` are the app's own origins: without configured authorized parties, a
        token's `azp` must be one of them.
        """
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise errors.Unauthenticated(NOT_VERIFIED) from None
        if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID:
            raise errors.Unauthenticated(NOT_VERIFIED)
        key = await self._key(kid)
        return CLERK_PREFIX + self._verify(token, key, origins)

    async def _key(self, kid: str) -> PyJWK:
        now = time.monotonic()
        fresh = now - self._fetched_at < _JWKS_LIFESPAN
        if kid in self._keys and fresh:
            return self._keys[kid]
        if self._unknown.get(kid, 0.0) > now and fresh:
            raise errors.Unauthenticated(NOT_VERIFIED)
        async with self._lock:
            if now >= self._next_fetch:
                self._next_fetch = time.monotonic() + REFRESH_SECONDS
                await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            if len(self._unknown) >= _MAX_UNKNOWN:
                self._unknown.clear()
            self._unknown[kid] = time.monotonic() + REFRESH_SECONDS
            raise errors.Unauthenticated(NOT_VERIFIED)
        return key

    async def _fetch(self) -> None:
        import httpx2  # the OpenAI SDK's own HTTP client: always installed

        try:
            async with httpx2.AsyncClient(timeout=self._timeout) as http:
                answer = await http.get(self.jwks_url)
            answer.raise_for_status()
            keys = PyJWKSet.from_dict(answer.json()).keys
        except (httpx2.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("could not fetch the Clerk key set from PARLEY_CLERK_JWKS_URL (%s)",
                        type(exc).__name__)
            if not self._keys:
                raise errors.SignInUnavailable() from None
            return  # keep the keys we had
        self._keys = {key.key_id: key for key in keys if key.key_id}
        self._fetched_at = time.monotonic()
        self._unknown.clear()

    def _verify(self, token: str, key: PyJWK, origins: Sequence[str]) -> str:
        """The verified token's subject (the Clerk user id)."""
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                # Clerk session tokens carry no audience; `azp` is checked below instead,
                # as Clerk's own SDKs do.
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise errors.Unauthenticated(EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise errors.Unauthenticated(
                "Your sign-in is not valid yet. Check this device's clock, then sign in again."
            ) from None
        except jwt.InvalidIssuerError:
            raise errors.Unauthenticated(
                "This sign-in belongs to a different app. Sign in again here."
            ) from None
        except jwt.PyJWTError as exc:
            log.info("refused a sign-in token: %s", type(exc).__name__)
            raise errors.Unauthenticated(NOT_VERIFIED) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > _MAX_SUBJECT:
            raise errors.Unauthenticated(NOT_VERIFIED)
        # Strict: a token without `azp` is refused too, so a token minted for another site
        # of the same Clerk instance cannot be replayed here. Without configured parties,
        # the app's own origins are the parties.
        parties = self._parties or frozenset(origin.rstrip("/") for origin in origins)
        party = claims.get("azp")
        if not isinstance(party, str) or party.rstrip("/") not in parties:
            raise errors.Unauthenticated(
                "This sign-in was made for a different site. Sign in again here."
            )
        return subject


@dataclass(frozen=True)
class Identity:
    """Who a request speaks for: a signed-in user, a device, both, or neither."""

    user: str | None = None
    device: str | None = None

    @property
    def owner(self) -> str | None:
        """The owner of what this request reads and writes: the user when signed in."""
        return self.user or self.device


class OwnerResolver:
    """Turns a request's Authorization and X-Parley-Device headers into an Identity."""

    def __init__(self, clerk: ClerkVerifier | None = None) -> None:
        self.clerk = clerk

    async def identify(
        self, authorization: str | None, device: str | None, *, origins: Sequence[str] = ()
    ) -> Identity:
        """The identity the headers prove; raises when one of them is present but bad.

        `origins` are the app's own (for a sign-in's `azp`).
        """
        user = None
        token = _session_token(authorization)
        if token is not None and self.clerk is not None:
            user = await self.clerk.owner(token, origins=origins)
        return Identity(user=user, device=device_owner(device) if device else None)

    async def owner_of(
        self, headers: Mapping[str, str], *, origins: Sequence[str] = ()
    ) -> str | None:
        """Whose history a request with these headers touches (None: it sent no identity)."""
        identity = await self.identify(
            headers.get("authorization"), headers.get(DEVICE_HEADER), origins=origins
        )
        return identity.owner


def _session_token(authorization: str | None) -> str | None:
    # The same header may carry the person's OpenAI key instead.
    value = bearer_value(authorization)
    return value if value is not None and is_session_token(value) else None


def owner_resolver(settings: Settings) -> OwnerResolver:
    """The resolver the settings ask for: with Clerk when an issuer is configured."""
    if settings.clerk_issuer is None:
        if settings.clerk_jwks_url is not None:
            raise IdentityConfigError(
                "PARLEY_CLERK_JWKS_URL is set without PARLEY_CLERK_ISSUER. Set the issuer "
                "too (your Clerk Frontend API URL), so tokens from other issuers are refused."
            )
        return OwnerResolver()
    return OwnerResolver(
        ClerkVerifier(
            settings.clerk_issuer,
            jwks_url=settings.clerk_jwks_url,
            authorized_parties=settings.clerk_authorized_parties,
        )
    )


