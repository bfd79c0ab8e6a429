"""Owners: device secrets hashed, Clerk session tokens verified against a real JWKS server."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

import jwt
import pytest

from parley import errors
from parley.config import Settings
from parley.storage.owners import (
    EXPIRED,
    ClerkVerifier,
    IdentityConfigError,
    OwnerResolver,
    device_owner,
    owner_resolver,
)
from tests.fakes.clerk import AZP, FakeClerk, rsa_key

SECRET = bytes(range(32))


@pytest.fixture
async def clerk() -> AsyncIterator[FakeClerk]:
    async with FakeClerk() as fake:
        yield fake


def verifier(clerk: FakeClerk, parties: tuple[str, ...] = (AZP,)) -> ClerkVerifier:
    return ClerkVerifier(clerk.issuer, authorized_parties=parties)


def test_device_owner_is_the_hash_of_the_secret_bytes() -> None:
    expected = hashlib.sha256(SECRET).hexdigest()
    b64 = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")
    assert len(b64) == 43
    assert device_owner(SECRET.hex()) == expected
    assert device_owner(SECRET.hex().upper()) == expected
    assert device_owner(b64) == expected  # both spellings of one secret: one owner
    assert expected not in (SECRET.hex(), b64)


def test_different_devices_are_different_owners() -> None:
    assert device_owner(secrets.token_hex(32)) != device_owner(secrets.token_hex(32))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "0" * 63,
        "0" * 65,
        "g" * 64,  # not hex
        base64.urlsafe_b64encode(SECRET).decode(),  # padded: 44 characters
        base64.b64encode(b"\xff" * 32).decode().rstrip("="),  # standard alphabet: "/" and "+"
        "0" * 32 + "\x00" + "0" * 31,
        "\ud800" * 64,
    ],
)
def test_malformed_device_secrets_are_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidDevice) as caught:
        device_owner(bad)
    assert caught.value.status == 400
    assert "64 hex" in caught.value.message


async def test_a_valid_session_token_names_the_clerk_user(clerk: FakeClerk) -> None:
    assert await verifier(clerk).owner(clerk.token("user_2abc")) == "clerk:user_2abc"


async def test_the_key_set_is_fetched_once_and_cached(clerk: FakeClerk) -> None:
    check = verifier(clerk)
    for n in range(3):
        assert await check.owner(clerk.token(f"user_{n}")) == f"clerk:user_{n}"
    assert clerk.fetches == 1


async def test_expired_tokens_say_sign_in_again(clerk: FakeClerk) -> None:
    with pytest.raises(errors.Unauthenticated) as caught:
        await verifier(clerk).owner(clerk.token(expires_in=-60))
    assert caught.value.message == EXPIRED == "Your sign-in has expired. Sign in again."
    assert caught.value.status == 401


async def test_a_few_seconds_of_clock_skew_are_tolerated(clerk: FakeClerk) -> None:
    assert await verifier(clerk).owner(clerk.token("user_1", expires_in=-3)) == "clerk:user_1"


async def test_tokens_not_yet_valid_are_refused(clerk: FakeClerk) -> None:
    future = clerk.token(nbf=int(time.time()) + 3600, expires_in=7200)
    with pytest.raises(errors.Unauthenticated, match="clock"):
        await verifier(clerk).owner(future)


async def test_another_issuer_is_refused(clerk: FakeClerk) -> None:
    with pytest.raises(errors.Unauthenticated, match="different app"):
        await verifier(clerk).owner(clerk.token(issuer="https://evil.clerk.accounts.dev"))


async def test_a_token_signed_with_another_key_is_refused(clerk: FakeClerk) -> None:
    forged = clerk.token(key=rsa_key("attacker"))  # same kid, wrong key
    with pytest.raises(errors.Unauthenticated, match="could not be verified"):
        await verifier(clerk).owner(forged)


async def test_an_unknown_key_id_is_refused(clerk: FakeClerk) -> None:
    with pytest.raises(errors.Unauthenticated, match="could not be verified"):
        await verifier(clerk).owner(clerk.token(key=rsa_key("attacker"), kid="other"))


async def test_hmac_tokens_are_refused(clerk: FakeClerk) -> None:
    # The classic confusion: an HS256 token "signed" with the public key as the secret.
    token = jwt.encode(
        {"sub": "user_1", "iss": clerk.issuer, "exp": int(time.time()) + 60, "azp": AZP},
        "not-the-key-anyway-but-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": clerk.kid},
    )
    with pytest.raises(errors.Unauthenticated):
        await verifier(clerk).owner(token)


@pytest.mark.parametrize("azp", ["https://evil.example", None])
async def test_another_or_missing_authorized_party_is_refused(
    clerk: FakeClerk, azp: str | None
) -> None:
    with pytest.raises(errors.Unauthenticated, match="different site"):
        await verifier(clerk).owner(clerk.token(azp=azp))


async def test_without_configured_parties_azp_must_be_the_apps_own_origin(
    clerk: FakeClerk,
) -> None:
    own = "https://parley.example"
    token = clerk.token("user_1", azp=own)
    assert await verifier(clerk, parties=()).owner(token, origins=[own]) == "clerk:user_1"
    for azp in ("https://anything.example", None):
        with pytest.raises(errors.Unauthenticated, match="different site"):
            await verifier(clerk, parties=()).owner(clerk.token(azp=azp), origins=[own])


async def test_junk_key_ids_never_make_parley_fetch_the_key_set_again(clerk: FakeClerk) -> None:
    checker = verifier(clerk)
    assert await checker.owner(clerk.token("user_1")) == "clerk:user_1"
    fetched = clerk.fetches
    for n in range(50):
        with pytest.raises(errors.Unauthenticated):
            await checker.owner(clerk.token(kid=f"junk-{n}"))
    # At most one refresh in 30 s, whatever the tokens name: here, none more.
    assert clerk.fetches - fetched <= 1
    assert await checker.owner(clerk.token("user_2")) == "clerk:user_2"


@pytest.mark.parametrize("sub", ["", "u" * 500])
async def test_tokens_without_a_usable_subject_are_refused(clerk: FakeClerk, sub: str) -> None:
    with pytest.raises(errors.Unauthenticated):
        await verifier(clerk).owner(clerk.token(sub))


async def test_tokens_without_an_expiry_are_refused(clerk: FakeClerk) -> None:
    payload = jwt.decode(clerk.token(), options={"verify_signature": False})
    del payload["exp"]
    token = jwt.encode(payload, clerk.key, algorithm="RS256", headers={"kid": clerk.kid})
    with pytest.raises(errors.Unauthenticated):
        await verifier(clerk).owner(token)


@pytest.mark.parametrize("junk", ["eyJ", "eyJhbGciOiJSUzI1NiJ9.e30.", "eyJ\u00ff.x.y"])
async def test_garbage_tokens_are_refused_not_crashed_on(clerk: FakeClerk, junk: str) -> None:
    with pytest.raises(errors.Unauthenticated):
        await verifier(clerk).owner(junk)


async def test_an_unreachable_key_set_is_a_503_that_says_try_again(clerk: FakeClerk) -> None:
    clerk.fail = True
    with pytest.raises(errors.SignInUnavailable) as caught:
        await verifier(clerk).owner(clerk.token())
    assert caught.value.status == 503


async def test_tokens_never_reach_the_logs(
    clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = clerk.token(key=rsa_key("attacker"))
    with pytest.raises(errors.Unauthenticated):
        await verifier(clerk).owner(token)
    signature = token.rsplit(".", 1)[1]
    assert signature not in caplog.text
    assert token.split(".")[1] not in caplog.text


async def test_resolver_prefers_the_signed_in_user_and_keeps_the_device(
    clerk: FakeClerk,
) -> None:
    resolver = OwnerResolver(verifier(clerk))
    device = secrets.token_hex(32)
    identity = await resolver.identify(f"Bearer {clerk.token('user_9')}", device)
    assert identity.user == "clerk:user_9"
    assert identity.device == device_owner(device)
    assert identity.owner == "clerk:user_9"


async def test_resolver_ignores_api_keys_in_the_authorization_header(clerk: FakeClerk) -> None:
    resolver = OwnerResolver(verifier(clerk))
    device = secrets.token_hex(32)
    identity = await resolver.identify("Bearer sk-proj-abc123", device)
    assert identity.user is None
    assert identity.owner == device_owner(device)
    assert clerk.fetches == 0


async def test_without_clerk_session_tokens_are_ignored(clerk: FakeClerk) -> None:
    identity = await OwnerResolver().identify(f"Bearer {clerk.token()}", None)
    assert identity.owner is None


async def test_a_bad_session_token_is_refused_even_with_a_device(clerk: FakeClerk) -> None:
    # Falling back to the device would quietly show another owner's history.
    resolver = OwnerResolver(verifier(clerk))
    with pytest.raises(errors.Unauthenticated):
        await resolver.identify(f"Bearer {clerk.token(expires_in=-60)}", secrets.token_hex(32))


def test_resolver_from_settings() -> None:
    assert owner_resolver(Settings()).clerk is None
    clerk = owner_resolver(
        Settings(clerk_issuer="https://clerk.parley.example/", clerk_authorized_parties=[AZP])
    ).clerk
    assert clerk is not None
    assert clerk.issuer == "https://clerk.parley.example"
    assert clerk.jwks_url == "https://clerk.parley.example/.well-known/jwks.json"
    with pytest.raises(IdentityConfigError, match="PARLEY_CLERK_ISSUER"):
        owner_resolver(Settings(clerk_jwks_url="https://clerk.parley.example/jwks"))
