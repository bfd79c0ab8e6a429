"""The storage suite runs once on SQLite and once on PostgreSQL (see databases.py)."""

from tests.storage.databases import (  # noqa: F401 (fixtures)
    database_url,
    empty_database_url,
    postgres_database,
    store,
)
