"""Who owns history: a device (the hash of its secret) or a signed-in Clerk user.

Never log a device secret, a session token or a key: only what kind of problem it had.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jwt
from jwt import PyJWKClient

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
    """Checks Clerk session tokens: RS256 signature from the JWKS, issuer, expiry, azp."""

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
        self._parties = frozenset(party.rstrip("/") for party in authorized_parties)
        # The key set is cached for a few minutes; an unknown key id refetches it, at
        # most every 30 s (PyJWKClient's cooldown), so junk tokens cannot hammer Clerk.
        # No per-key cache: it never expires, so a key Clerk rotated out would live on.
        self._jwks = PyJWKClient(
            self.jwks_url, cache_jwk_set=True, lifespan=_JWKS_LIFESPAN, timeout=timeout
        )

    async def owner(self, token: str) -> str:
        """`clerk:<user id>` for a valid session token; raises Unauthenticated otherwise."""
        # Fetching the key set is blocking urllib I/O; keep it off the event loop.
        subject = await asyncio.to_thread(self._verify, token)
        return CLERK_PREFIX + subject

    def _verify(self, token: str) -> str:
        """The verified token's subject (the Clerk user id)."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
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
        except jwt.PyJWKClientConnectionError:
            log.warning("could not fetch the Clerk key set from PARLEY_CLERK_JWKS_URL")
            raise errors.SignInUnavailable() from None
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
        if self._parties:
            # Strict: a token without `azp` is refused too, so a token minted for another
            # site of the same Clerk instance cannot be replayed here.
            party = claims.get("azp")
            if not isinstance(party, str) or party.rstrip("/") not in self._parties:
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

    async def identify(self, authorization: str | None, device: str | None) -> Identity:
        """The identity the headers prove; raises when one of them is present but bad."""
        user = None
        token = _session_token(authorization)
        if token is not None and self.clerk is not None:
            user = await self.clerk.owner(token)
        return Identity(user=user, device=device_owner(device) if device else None)

    async def owner_of(self, headers: Mapping[str, str]) -> str | None:
        """Whose history a request with these headers touches (None: it sent no identity)."""
        identity = await self.identify(headers.get("authorization"), headers.get(DEVICE_HEADER))
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


