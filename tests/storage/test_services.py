"""build_storage: off without a database, refuses an old schema, migrates when asked."""

from __future__ import annotations

import secrets
import uuid

import pytest
from pydantic import SecretStr

from parley.config import Settings
from parley.storage.db import DatabaseUnavailable, SchemaOutOfDate
from parley.storage.owners import IdentityConfigError
from parley.storage.services import build_storage


async def test_no_database_url_means_history_stays_on_the_device() -> None:
    assert await build_storage(Settings()) is None


async def test_an_unmigrated_database_stops_startup_with_what_to_run(
    empty_database_url: str,
) -> None:
    with pytest.raises(SchemaOutOfDate, match="Run `parley db upgrade`"):
        await build_storage(Settings(database_url=SecretStr(empty_database_url)))


async def test_migrate_on_start_builds_the_tables(empty_database_url: str) -> None:
    store = await build_storage(
        Settings(database_url=SecretStr(empty_database_url), database_migrate_on_start=True)
    )
    assert store is not None
    try:
        owner, sid = secrets.token_hex(32), str(uuid.uuid4())
        await store.append_message(owner, sid, "user", "works")
        assert (await store.get_session(owner, sid)).session.title == "works"
    finally:
        await store.aclose()


async def test_an_unreachable_database_stops_startup_without_the_password() -> None:
    url = "postgresql://parley:hunter2-secret@127.0.0.1:1/parley"
    with pytest.raises(DatabaseUnavailable) as caught:
        await build_storage(Settings(database_url=SecretStr(url)))
    assert "hunter2-secret" not in str(caught.value)


async def test_half_configured_clerk_stops_startup(database_url: str) -> None:
    with pytest.raises(IdentityConfigError):
        await build_storage(
            Settings(
                database_url=SecretStr(database_url),
                clerk_jwks_url="https://clerk.example/.well-known/jwks.json",
            )
        )
