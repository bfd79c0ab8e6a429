"""The `parley` command: serve the app, check what is ready, manage the database."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from parley.config import Settings, is_loopback_host
from parley.storage.cli import db_cli

cli = typer.Typer(
    name="parley",
    help="Parley: a voice sparring partner for product designers.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(db_cli, name="db")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (plus flags), or a readable message and exit code 2."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        typer.secho("Parley cannot start: the settings need fixing.", fg="red", err=True)
        for problem in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(p) for p in problem["loc"]) or "settings"
            name = f"PARLEY_{field.upper()}" if field != "settings" else field
            typer.echo(f"  {name}: {problem['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the web app."""
    import uvicorn

    from parley.providers.local import LocalModelError, resolve_local_model

    settings = load_settings(host=host, port=port)
    if settings.metrics_enabled and settings.metrics_token is None and not is_loopback_host(
        settings.host
    ):
        typer.secho(
            "Parley cannot start: PARLEY_METRICS_ENABLED on a non-loopback host needs "
            "PARLEY_METRICS_TOKEN, or anyone could read this server's numbers.",
            fg="red", err=True,
        )
        raise typer.Exit(2)
    try:
        resolve_local_model(settings.local_model)
    except LocalModelError as exc:
        typer.secho(f"Parley cannot start: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    # Worker and reload processes build their own app from the environment, so the
    # command-line choices travel there as settings.
    os.environ["PARLEY_HOST"] = settings.host
    os.environ["PARLEY_PORT"] = str(settings.port)
    typer.echo(f"Parley on http://{settings.host}:{settings.port}")
    uvicorn.run(
        "parley.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        reload=reload,
        workers=None if reload else workers,
        log_config=None,
        access_log=False,  # parley.request logs each request, without query strings
        # The app handles X-Forwarded-* itself (PARLEY_TRUSTED_PROXIES), the same way
        # under uvicorn, Vercel or any other ASGI server.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


@cli.command()
def doctor() -> None:
    """Check each part Parley relies on: ready or not, and what to do. Prints no secrets."""
    import asyncio

    from parley.doctor import report

    settings = load_settings()
    ok = True
    for line in asyncio.run(report(settings)):
        mark = {"ok": "✓", "warn": "!", "fail": "✗", "info": "·"}[line.level]
        typer.echo(f"{mark} {line.text}")
        ok = ok and line.level != "fail"
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
