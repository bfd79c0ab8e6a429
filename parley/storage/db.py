"""Database engines from PARLEY_DATABASE_URL, and the Alembic migrations, run in code.

Never log or raise with the URL itself: it usually carries a password.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only where migrations run: importing it costs about 140 ms, which
# every start (and every serverless cold start) would pay for nothing.

log = logging.getLogger(__name__)

# Alembic finds the scripts inside the installed package; no alembic.ini is needed.
SCRIPT_LOCATION = "parley.storage:migrations"
# Our own version table, so Parley can share a database (Supabase's `postgres`) with
# another app that also uses Alembic.
VERSION_TABLE = "parley_schema_version"
# Serialises migrations when several workers start with PARLEY_DATABASE_MIGRATE_ON_START.
_MIGRATION_LOCK = 0x7061726C6579  # "parley"

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"}
# Supabase's transaction pooler (Supavisor, formerly PgBouncer) listens here.
_POOLER_PORT = 6543
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_TRUE = {"1", "true", "yes", "on"}
CONNECT_TIMEOUT = 3.0  # seconds
_FALSE = {"0", "false", "no", "off"}


class DatabaseConfigError(ValueError):
    """PARLEY_DATABASE_URL cannot be used as given; the message says how to fix it."""


class SchemaOutOfDate(RuntimeError):
    """The database schema is not the one this version of Parley needs."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or refused Parley's login."""


@contextmanager
def database_problems() -> Iterator[None]:
    """Turn connection failures into DatabaseUnavailable, with a message and no URL."""
    try:
        yield
    except (OSError, SQLAlchemyError) as exc:
        # The driver's own words (never the URL): "password authentication failed for
        # user ...", "Connect call failed ('10.0.0.5', 5432)", ...
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        raise DatabaseUnavailable(
            f"Parley cannot use the database in PARLEY_DATABASE_URL ({reason}). "
            "Check that it is running and that the host, port, user and password are right."
        ) from exc


@dataclass(frozen=True)
class EngineSpec:
    """What `make_engine` builds: a normalised URL plus driver arguments."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    # Behind a transaction pooler, server-side prepared statements cannot be reused
    # and our own pool only adds a second layer of pooling.
    pooler: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def engine_spec(raw: str) -> EngineSpec:
    """Normalise a SQLite or PostgreSQL (plain, Heroku or Supabase style) URL for async use."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise DatabaseConfigError(
            "PARLEY_DATABASE_URL is not a database URL. Use sqlite+aiosqlite:///path/to/file.db "
            "or postgresql://user:password@host:5432/dbname."
        ) from None
    scheme = url.drivername.lower()
    if scheme in _SQLITE_SCHEMES:
        return _sqlite_spec(url)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_spec(url)
    raise DatabaseConfigError(
        f"PARLEY_DATABASE_URL uses {scheme!r}, which Parley does not support. Use "
        "sqlite+aiosqlite:///path/to/file.db or a postgresql:// URL."
    )


def _sqlite_spec(url: URL) -> EngineSpec:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        # Every pooled connection would see its own empty database, without the tables.
        raise DatabaseConfigError(
            "PARLEY_DATABASE_URL points at an in-memory SQLite database, which forgets "
            "everything. Give it a file: sqlite+aiosqlite:///path/to/parley.db"
        )
    return EngineSpec(url=url.set(drivername="sqlite+aiosqlite"))


def _postgres_spec(url: URL) -> EngineSpec:
    query = dict(url.query)
    args: dict[str, Any] = {}
    pooler = url.port == _POOLER_PORT or _take(query, "pgbouncer").lower() in _TRUE
    # libpq spellings that asyncpg does not take as keywords; passing them through
    # would make every connection fail with "unexpected keyword argument".
    ssl = _take(query, "ssl", "sslmode").lower()
    # node-postgres style `ssl=true` means "require".
    ssl = "require" if ssl in _TRUE else "disable" if ssl in _FALSE else ssl
    if ssl:
        if ssl not in _SSL_MODES:
            raise DatabaseConfigError(
                f"PARLEY_DATABASE_URL has sslmode={ssl!r}; use one of "
                + ", ".join(sorted(_SSL_MODES))
                + "."
            )
        args["ssl"] = ssl
    timeout = _take(query, "connect_timeout", "timeout")
    if timeout:
        args["timeout"] = _number(timeout, "connect_timeout")
    command_timeout = _take(query, "command_timeout")
    if command_timeout:
        args["command_timeout"] = _number(command_timeout, "command_timeout")
    application = _take(query, "application_name")
    if application:
        args["server_settings"] = {"application_name": application}
    target = _take(query, "target_session_attrs")
    if target:
        args["target_session_attrs"] = target
    if query:
        # Names only: values may be secrets (sslpassword, ...).
        log.info("ignoring database URL options asyncpg does not use: %s", ", ".join(query))
    if pooler:
        # asyncpg's own statement cache and SQLAlchemy's both keep named prepared
        # statements per connection; a transaction pooler hands each transaction a
        # different server connection, so cached names clash ("prepared statement
        # ... already exists"). Turn both off and make every name unique.
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
        args["prepared_statement_name_func"] = _statement_name
    return EngineSpec(
        url=url.set(drivername="postgresql+asyncpg", query={}), connect_args=args, pooler=pooler
    )


def _take(query: dict[str, str | tuple[str, ...]], *names: str) -> str:
    """Remove every spelling in `names` from the query; the first one given (last if repeated)."""
    found = ""
    for name in names:
        value = query.pop(name, "")
        value = value[-1] if isinstance(value, tuple) else value
        found = found or value
    return found


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DatabaseConfigError(
            f"PARLEY_DATABASE_URL has {name}={value!r}; it must be a number of seconds."
        ) from None


def _statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def make_engine(raw: str) -> AsyncEngine:
    """An async engine for the URL: foreign keys on for SQLite, pooler-safe for Postgres."""
    spec = engine_spec(raw)
    if spec.is_sqlite:
        database = spec.url.database
        if database and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(spec.url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: an error's message would otherwise quote the values bound to the
    # statement, which are what people said. A connection attempt gives up after a few
    # seconds, so an unreachable database is found out while the person still waits.
    connect_args = {"timeout": CONNECT_TIMEOUT, **spec.connect_args}
    if spec.pooler:
        return create_async_engine(spec.url, connect_args=connect_args, poolclass=NullPool,
                                   hide_parameters=True)
    # pool_pre_ping: hosted Postgres drops idle connections; find out before a query does.
    return create_async_engine(spec.url, connect_args=connect_args, pool_pre_ping=True,
                               hide_parameters=True, pool_timeout=CONNECT_TIMEOUT)


def _sqlite_pragmas(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers do not block the writer (and the reverse) in write-ahead-log mode. The mode
    # is kept in the file, so set it only once: switching needs a lock that, unlike other
    # statements, does not wait, and fails at once while another connection writes.
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except dbapi_connection.dbapi.OperationalError:
            pass  # another connection holds the lock (and is likely switching it too)
    cursor.close()


def alembic_config() -> Config:
    """Alembic's configuration, built in code."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    """The newest migration this version of Parley ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision` (the newest by default)."""
    from alembic import command

    await _run(url, lambda config, _: command.upgrade(config, revision))


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to `revision` (`base` removes every Parley table)."""
    from alembic import command

    await _run(url, lambda config, _: command.downgrade(config, revision))


async def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it has no Parley tables yet."""
    found: list[str | None] = []
    await _run(url, lambda _, connection: found.append(_revision_of(connection)), migrates=False)
    return found[0]


def _revision_of(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def check_schema(engine: AsyncEngine) -> None:
    """Raise SchemaOutOfDate, saying what to run, unless the schema is at head."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_revision_of)
    head = head_revision()
    if current == head:
        return
    if current is None:
        problem = "The database has no Parley tables yet."
    else:
        problem = f"The database schema is at revision {current}; this Parley needs {head}."
    raise SchemaOutOfDate(
        f"{problem} Run `parley db upgrade` (or set PARLEY_DATABASE_MIGRATE_ON_START=true)."
    )


async def _run(
    url: str, step: Callable[[Config, Connection], None], *, migrates: bool = True
) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # pysqlite only opens a transaction before INSERT/UPDATE/DELETE, so DDL ran
        # outside one and concurrent migrators deadlocked ("database is locked").
        # Take over: one real transaction that holds the write lock from the start,
        # like the advisory lock on PostgreSQL.
        event.listen(engine.sync_engine, "connect", _manual_transactions)
        event.listen(engine.sync_engine, "connect", _foreign_keys_off)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_in_transaction, step, migrates)
    finally:
        await engine.dispose()


def _manual_transactions(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None


def _foreign_keys_off(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # A batch migration rebuilds a table: copy, DROP the old one, rename. With foreign keys
    # on, SQLite's DROP TABLE first deletes every row, and ON DELETE CASCADE then empties
    # the tables that point at it (a session table's rebuild deleted every message). The
    # pragma cannot change inside a transaction, so it is set here, as the connection
    # opens; `_check_foreign_keys` proves nothing was left dangling before the commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        tables = ", ".join(sorted({str(row[0]) for row in dangling}))
        raise RuntimeError(f"a migration left rows pointing at nothing in: {tables}")


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _in_transaction(
    connection: Connection, step: Callable[[Config, Connection], None], migrates: bool
) -> None:
    if connection.dialect.name == "postgresql":
        # Held until this transaction ends, so concurrent starts migrate one at a time.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = alembic_config()
    # env.py runs the migrations on this connection, inside this transaction.
    config.attributes["connection"] = connection
    step(config, connection)
    if migrates and connection.dialect.name == "sqlite":
        _check_foreign_keys(connection)
