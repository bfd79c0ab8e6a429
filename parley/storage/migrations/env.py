"""Alembic's entry point for Parley's migrations (run by `parley db ...` or at startup)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from parley.storage.db import VERSION_TABLE, make_engine
from parley.storage.models import Base

config = context.config


def run_on(connection: Connection) -> None:
    """Run the migrations on one synchronous connection."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    """For the bare `alembic` command: connect with PARLEY_DATABASE_URL."""
    from parley.config import Settings

    url = Settings().database_url
    if url is None:
        raise SystemExit("Set PARLEY_DATABASE_URL, or run `parley db upgrade` instead.")
    engine = make_engine(url.get_secret_value())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Parley's migrations need a database connection; offline (--sql) mode is off.")

shared = config.attributes.get("connection")
if shared is not None:
    run_on(shared)
else:
    asyncio.run(run_with_own_engine())
