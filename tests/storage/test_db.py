"""Database URLs normalised for async drivers, and engines that behave on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from parley.storage import db
from tests.storage.databases import ADMIN_URL

PASSWORD = "s3cr3t-PASSWORD"


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:p@db.example.com:5432/app",
        "postgresql://u:p@db.example.com:5432/app",
        "postgresql+asyncpg://u:p@db.example.com:5432/app",
    ],
)
def test_postgres_urls_use_asyncpg(raw: str) -> None:
    spec = db.engine_spec(raw)
    assert spec.url.drivername == "postgresql+asyncpg"
    assert (spec.url.host, spec.url.port, spec.url.database) == ("db.example.com", 5432, "app")
    assert spec.url.password == "p"
    assert not spec.pooler
    assert spec.connect_args == {}


@pytest.mark.parametrize(
    ("query", "ssl"),
    [
        ("sslmode=require", "require"),
        ("sslmode=verify-full", "verify-full"),
        ("ssl=true", "require"),
        ("ssl=disable", "disable"),
    ],
)
def test_libpq_ssl_options_become_asyncpg_ones(query: str, ssl: str) -> None:
    spec = db.engine_spec(f"postgresql://u:p@h/app?{query}")
    assert spec.connect_args["ssl"] == ssl
    # Nothing is left in the URL for asyncpg.connect() to choke on.
    assert dict(spec.url.query) == {}


def test_unknown_and_libpq_only_options_are_dropped() -> None:
    spec = db.engine_spec(
        "postgresql://u:p@h/app?sslmode=require&connect_timeout=7&application_name=parley"
        "&options=-c%20search_path%3Dx&sslrootcert=/etc/ca.pem"
    )
    assert spec.connect_args == {
        "ssl": "require",
        "timeout": 7.0,
        "server_settings": {"application_name": "parley"},
    }
    assert dict(spec.url.query) == {}


@pytest.mark.parametrize(
    "raw",
    [
        # Supabase's transaction pooler, as its dashboard gives it
        "postgresql://postgres.abcdefgh:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        # Prisma-style flag for PgBouncer
        "postgres://u:p@pooler.example.com:5432/app?pgbouncer=true&sslmode=require",
    ],
)
def test_transaction_poolers_turn_statement_caches_off(raw: str) -> None:
    spec = db.engine_spec(raw)
    assert spec.pooler
    assert spec.connect_args["statement_cache_size"] == 0
    assert spec.connect_args["prepared_statement_cache_size"] == 0
    name = spec.connect_args["prepared_statement_name_func"]
    assert name() != name()
    assert "pgbouncer" not in spec.url.query
    assert isinstance(db.make_engine(raw).sync_engine.pool, NullPool)


def test_supabase_session_pooler_keeps_caches() -> None:
    spec = db.engine_spec(
        "postgresql://postgres.abcdefgh:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
    )
    assert not spec.pooler
    assert "statement_cache_size" not in spec.connect_args


@pytest.mark.parametrize(
    "raw", ["sqlite:///history.db", "sqlite+aiosqlite:///history.db", "sqlite+pysqlite:///h.db"]
)
def test_sqlite_urls_use_aiosqlite(raw: str) -> None:
    assert db.engine_spec(raw).url.drivername == "sqlite+aiosqlite"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
        ("mysql://root:pw@localhost/app", "'mysql'"),
        ("not a url", "not a database URL"),
        (f"postgresql://u:{PASSWORD}@h/app?sslmode=sometimes", "sslmode='sometimes'"),
        (f"postgresql://u:{PASSWORD}@h/app?connect_timeout=soon", "connect_timeout"),
    ],
)
def test_unusable_urls_say_what_to_do_without_the_password(raw: str, says: str) -> None:
    with pytest.raises(db.DatabaseConfigError) as caught:
        db.engine_spec(raw)
    assert says in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'h.db'}")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "dir" / "h.db").exists()


@pytest.mark.postgres
async def test_pooler_settings_work_against_a_real_server() -> None:
    # Port 5432 with the flag: the same connect arguments as behind Supabase's pooler.
    url = make_url(ADMIN_URL).update_query_dict({"pgbouncer": "true", "sslmode": "disable"})
    engine = db.make_engine(url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as connection:
            for n in range(3):  # the same statement thrice: unique names, no clash
                value = await connection.execute(text("SELECT :n + 1"), {"n": n})
                assert value.scalar() == n + 1
    finally:
        await engine.dispose()


async def test_unreachable_database_is_explained_without_the_password() -> None:
    engine = db.make_engine(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nothing")
    with pytest.raises(db.DatabaseUnavailable) as caught:
        with db.database_problems():
            try:
                await db.check_schema(engine)
            finally:
                await engine.dispose()
    assert "PARLEY_DATABASE_URL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_engines_never_put_bound_values_in_their_errors(tmp_path: Path) -> None:
    # What people said is what is bound to the statements.
    for url in (f"sqlite:///{tmp_path / 'p.db'}", "postgresql://u@127.0.0.1:1/x"):
        assert db.make_engine(url).sync_engine.hide_parameters is True
