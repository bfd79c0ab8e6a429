"""`parley db upgrade | downgrade | current` against a real database."""

from __future__ import annotations

from typer.testing import CliRunner

from parley.cli import cli
from parley.storage.db import head_revision


def run(*args: str, url: str | None) -> tuple[int, str]:
    env = {"PARLEY_DATABASE_URL": url} if url else {}
    result = CliRunner().invoke(cli, ["db", *args], env=env)
    return result.exit_code, result.output


def test_upgrade_current_and_downgrade(empty_database_url: str) -> None:
    url, head = empty_database_url, head_revision()
    assert run("current", url=url) == (1, f"base (no Parley tables); newest is {head}. "
                                          "Run `parley db upgrade`.\n")
    assert run("upgrade", url=url) == (0, f"History database is at revision {head}.\n")
    assert run("current", url=url) == (0, f"{head} (head): up to date.\n")
    code, output = run("downgrade", "base", url=url)
    assert code == 0
    assert "base (no Parley tables)" in output


def test_an_unknown_revision_is_explained(empty_database_url: str) -> None:
    code, output = run("downgrade", "nonsense", url=empty_database_url)
    assert code == 1
    assert "nonsense" in output


def test_without_a_database_url_it_says_what_to_set() -> None:
    code, output = run("upgrade", url=None)
    assert code == 2
    assert "PARLEY_DATABASE_URL is not set" in output


def test_a_bad_url_is_explained_without_the_password() -> None:
    code, output = run("current", url="mysql://root:hunter2-secret@localhost/app")
    assert code == 1
    assert "does not support" in output
    assert "hunter2-secret" not in output
