"""Databases for the storage tests: the same suite on SQLite (a temp file) and PostgreSQL.

PostgreSQL tests get a fresh database per test session (`parley_test_<random>`), dropped at
the end, on the server in PARLEY_TEST_POSTGRES_URL (default: the local `test` database).
Import the fixtures into a test module or conftest to use them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # ships no type information
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from parley.storage.db import make_engine, upgrade
from parley.storage.owners import OwnerResolver
from parley.storage.repository import HistoryStore

ADMIN_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database() -> str:
    """A new, empty database on the test server; its URL."""
    name = f"parley_test_{secrets.token_hex(6)}"

    async def create() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database, even with connections left open."""
    name = make_url(url).database

    async def drop() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One migrated database for the whole session; tests empty it before they start."""
    url = create_postgres_database()
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        drop_postgres_database(url)


async def empty_tables(url: str) -> None:
    """Remove every project, session and message, keeping the schema."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM messages"))
            await connection.execute(text("DELETE FROM conversation_sessions"))
            await connection.execute(text("DELETE FROM projects"))
    finally:
        await engine.dispose()


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'history.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty history database."""
    # A plain fixture with asyncio.run: the session-wide database outlives any test's loop.
    if request.param == "sqlite":
        sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'history.db'}"
        asyncio.run(upgrade(sqlite_url))
        return sqlite_url
    # Asked for lazily, so SQLite-only runs (-m "not postgres") never touch the server.
    postgres_url: str = request.getfixturevalue("postgres_database")
    asyncio.run(empty_tables(postgres_url))
    return postgres_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[HistoryStore]:
    """A HistoryStore on the test database, closed after the test."""
    history = HistoryStore(make_engine(database_url), OwnerResolver())
    try:
        yield history
    finally:
        await history.aclose()
