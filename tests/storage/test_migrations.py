"""Alembic migrations, run in code, up and down on both databases."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from parley.storage import db
from parley.storage.models import Base

TABLES = {"conversation_sessions", "messages"}


async def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_tables_and_downgrade_removes_them(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    assert await db.current_revision(url) is None

    await db.upgrade(url)
    assert await db.current_revision(url) == db.head_revision()
    assert TABLES | {db.VERSION_TABLE} <= await _tables(url)

    await db.downgrade(url, "base")
    assert await db.current_revision(url) is None
    assert not TABLES & await _tables(url)

    await db.upgrade(url)  # and back up again: downgrade left nothing behind
    assert TABLES <= await _tables(url)


async def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    await db.upgrade(empty_database_url)
    await db.upgrade(empty_database_url)
    assert await db.current_revision(empty_database_url) == db.head_revision()


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"version_table": db.VERSION_TABLE})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_what_the_models_describe(
    empty_database_url: str,
) -> None:
    await db.upgrade(empty_database_url)
    engine = db.make_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_check_schema_says_to_run_parley_db_upgrade(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    try:
        with pytest.raises(db.SchemaOutOfDate, match="parley db upgrade"):
            await db.check_schema(engine)
        await db.upgrade(empty_database_url)
        await db.check_schema(engine)
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_do_not_trip_over_each_other(empty_database_url: str) -> None:
    # Several workers starting with PARLEY_DATABASE_MIGRATE_ON_START at once.
    await asyncio.gather(*(db.upgrade(empty_database_url) for _ in range(3)))
    assert await db.current_revision(empty_database_url) == db.head_revision()
