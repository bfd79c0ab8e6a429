"""Alembic migrations, run in code, up and down on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    String,
    Text,
    Uuid,
    column,
    inspect,
    select,
    table,
)

from parley.storage import db
from parley.storage.models import Base, UTCDateTime
from parley.storage.repository import HistoryStore

TABLES = {"conversation_sessions", "messages", "projects"}

# The 0001 tables as 0001 made them (today's models have more columns).
SESSIONS_0001 = table(
    "conversation_sessions",
    column("id", Uuid()), column("owner_id", String()), column("title", String()),
    column("mode", String()), column("started_at", UTCDateTime()),
    column("ended_at", UTCDateTime()), column("updated_at", UTCDateTime()),
)
MESSAGES_0001 = table(
    "messages",
    column("id", Uuid()), column("session_id", Uuid()), column("sender", String()),
    column("message_text", Text()), column("interrupted", Boolean()),
    column("created_at", UTCDateTime()),
)


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


def _rows_0001(sessions: int, messages: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    start = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    session_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    for n in range(sessions):
        sid = uuid.uuid4()
        at = start + timedelta(hours=n)
        session_rows.append({
            "id": sid, "owner_id": f"owner-{n % 2}", "title": f"Conversation {n}",
            "mode": "critique", "started_at": at, "ended_at": None,
            "updated_at": at + timedelta(minutes=messages),
        })
        message_rows.extend({
            "id": uuid.uuid4(), "session_id": sid, "sender": ("user", "bot")[m % 2],
            "message_text": f"turn {m} of {n}", "interrupted": m == messages - 1,
            "created_at": at + timedelta(minutes=m),
        } for m in range(messages))
    return session_rows, message_rows


def _contents(connection: Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    sessions = connection.execute(
        select(*(SESSIONS_0001.c[name] for name in
                 ("id", "owner_id", "title", "mode", "started_at", "ended_at", "updated_at")))
        .order_by(SESSIONS_0001.c.id)
    ).all()
    messages = connection.execute(select(*MESSAGES_0001.c).order_by(MESSAGES_0001.c.id)).all()
    return [tuple(row) for row in sessions], [tuple(row) for row in messages]


async def test_0002_upgrades_a_0001_database_with_every_row_intact(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await db.upgrade(url, "0001")
    session_rows, message_rows = _rows_0001(sessions=6, messages=5)
    engine = db.make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(SESSIONS_0001.insert(), session_rows)
            await connection.execute(MESSAGES_0001.insert(), message_rows)
        async with engine.connect() as connection:
            before = await connection.run_sync(_contents)
        await engine.dispose()  # SQLite's rebuild must not meet a pooled connection

        await db.upgrade(url)
        assert await db.current_revision(url) == "0002"

        async with engine.connect() as connection:
            assert await connection.run_sync(_contents) == before
            new = (await connection.execute(select(
                column("project_id", Uuid()), column("image_bytes", BigInteger())
            ).select_from(table("conversation_sessions")))).all()
            assert [tuple(row) for row in new] == [(None, 0)] * 6
            images = (await connection.execute(
                select(column("images", JSON())).select_from(table("messages"))
            )).all()
            assert [tuple(row) for row in images] == [(None,)] * 30
        assert len(before[0]) == 6 and len(before[1]) == 30

        # What 0002 adds works on the old rows: a project, a move, a picture, a delete.
        await engine.dispose()
        store = HistoryStore(db.make_engine(url))
        try:
            owner, old = session_rows[0]["owner_id"], str(session_rows[0]["id"])
            project = await store.create_project(owner, "Budget app")
            await store.update_session(owner, old, project_id=project.id)
            assert (await store.get_project(owner, project.id)).session_ids == (old,)
            picture = "data:image/png;base64,iVBORw0KGgo="
            await store.append_message(owner, old, "user", "This screen?", images=[picture])
            detail = await store.get_session(owner, old)
            assert [m.images for m in detail.messages] == [()] * 5 + [(picture,)]
            await store.delete_project(owner, project.id)
            assert (await store.get_session(owner, old)).session.project_id is None
        finally:
            await store.aclose()
        async with engine.connect() as connection:
            used = await connection.run_sync(_contents)
        assert len(used[1]) == 31

        await db.downgrade(url, "0001")
        await engine.dispose()
        async with engine.connect() as connection:
            assert await connection.run_sync(_contents) == used
        assert "projects" not in await _tables(url)
        await db.upgrade(url)  # and up again
        async with engine.connect() as connection:
            assert await connection.run_sync(_contents) == used
    finally:
        await engine.dispose()


async def test_a_sqlite_migration_that_leaves_dangling_rows_is_rolled_back(
    tmp_path: Path,
) -> None:
    # Foreign keys are off while SQLite migrates (a table rebuild would cascade otherwise),
    # so the migration itself must check them before it commits.
    path = tmp_path / "history.db"
    url = f"sqlite+aiosqlite:///{path}"
    await db.upgrade(url, "0001")
    with closing(sqlite3.connect(path)) as raw, raw:  # foreign keys are off by default
        raw.execute(
            "INSERT INTO messages (id, session_id, sender, message_text, interrupted, "
            "created_at) VALUES (?, ?, 'user', 'orphan', 0, '2025-11-24 09:00:00')",
            (uuid.uuid4().hex, uuid.uuid4().hex),
        )
    with pytest.raises(RuntimeError, match="messages"):
        await db.upgrade(url)
    assert await db.current_revision(url) == "0001"
