"""`parley db ...`: migrate the history database (PARLEY_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")

# The database layer (SQLAlchemy, Alembic: about 250 ms) is imported by the commands that
# use it, so `parley serve` and `parley doctor` do not load it to register these commands.

db_cli = typer.Typer(
    help="Manage the server-side history database (PARLEY_DATABASE_URL).",
    no_args_is_help=True,
)


def _database_url() -> str:
    from parley.cli import load_settings  # here, not at the top: parley.cli imports us

    url = load_settings().database_url
    if url is None:
        typer.secho(
            "PARLEY_DATABASE_URL is not set: set it to a sqlite+aiosqlite:///... or "
            "postgresql://... URL to keep history on the server.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    return url.get_secret_value()


def _run(work: Coroutine[Any, Any, T]) -> T:
    from alembic.util import CommandError

    from parley.storage import db

    try:
        with db.database_problems():
            return asyncio.run(work)
    except (db.DatabaseConfigError, db.DatabaseUnavailable, CommandError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None


@db_cli.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or update the history tables."""
    from parley.storage import db

    url = _database_url()
    _run(db.upgrade(url, revision))
    typer.echo(f"History database is at revision {_run(db.current_revision(url))}.")


@db_cli.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops every table.")],
) -> None:
    """Roll the history tables back to an older revision."""
    from parley.storage import db

    url = _database_url()
    _run(db.downgrade(url, revision))
    current = _run(db.current_revision(url))
    typer.echo(f"History database is at revision {current or 'base (no Parley tables)'}.")


@db_cli.command("current")
def current_command() -> None:
    """Say which revision the database is at, and whether that is the newest."""
    from parley.storage import db

    current = _run(db.current_revision(_database_url()))
    head = db.head_revision()
    if current == head:
        typer.echo(f"{current} (head): up to date.")
    else:
        typer.echo(f"{current or 'base (no Parley tables)'}; newest is {head}. "
                   "Run `parley db upgrade`.")
        raise typer.Exit(1)
