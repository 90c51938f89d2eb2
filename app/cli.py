"""Command line: serve, migrate, seed, wait-db."""

import os
import time
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.auth.service import create_token, list_tokens, revoke_token
from app.core.config import Settings
from app.core.database import Database
from app.core.db import build_engine
from app.core.errors import ProblemError
from app.core.heads import BoundedHttpToolsProtocol
from app.core.migrate import downgrade, migration_lock, upgrade
from app.main import build_missing_documents, prepare_database
from app.timeline.export import export_files
from seed.loader import (
    SEED_DIR,
    SeedError,
    is_empty,
    load_dataset,
    read_and_check,
    seed_database,
)

cli = typer.Typer(help="Space Cooperation Timeline", no_args_is_help=True)
seed_cli = typer.Typer(help="Load or check the curated dataset.", invoke_without_command=True)
cli.add_typer(seed_cli, name="seed")
DEFAULT_SCOPES = ["editor"]
token_cli = typer.Typer(
    help="Manage editor tokens (the API never issues them).", no_args_is_help=True
)
cli.add_typer(token_cli, name="token")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(envvar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(envvar="WORKERS", min=1)] = 1,
    reload: bool = False,
) -> None:
    """Migrate and seed (when configured), then serve the API."""
    settings = Settings()
    engine = build_engine(settings)
    prepare_database(engine, settings, migrate=settings.auto_migrate, seed=settings.auto_seed)
    engine.dispose()
    # Done once here, before the workers start: they need not check again.
    os.environ["AUTO_MIGRATE"] = os.environ["AUTO_SEED"] = "false"
    uvicorn.run(
        "app.main:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=20,
        http=BoundedHttpToolsProtocol,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to the revision")] = False,
) -> None:
    """Upgrade (or downgrade) the database schema."""
    engine = build_engine(Settings())
    with migration_lock(engine) as conn:
        (downgrade if down else upgrade)(conn, revision)
        if not down and revision == "head":
            build_missing_documents(conn)
    engine.dispose()
    typer.echo(f"database at {revision}")


@cli.command("wait-db")
def wait_db(
    timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to keep retrying (plus one connection attempt)")
    ] = 60.0,
) -> None:
    """Wait until the database accepts connections; exit 1 if it still refuses after TIMEOUT."""
    engine = build_engine(Settings())
    where = engine.url.render_as_string(hide_password=True)
    deadline = time.monotonic() + timeout
    delay = 0.25
    try:
        while (reason := _connect_error(engine)) is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                typer.echo(f"gave up on database {where} after {timeout:g}s: {reason}", err=True)
                raise typer.Exit(1)
            typer.echo(f"waiting for database {where}: {reason}", err=True)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 5.0)
    finally:
        engine.dispose()
    typer.echo(f"database {where} is reachable")


def _connect_error(engine: Engine) -> str | None:
    """Why the database refuses a connection right now, or None when it accepts one."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return " ".join(str(exc.orig).split()) or exc.__class__.__name__
    return None


@seed_cli.callback()
def seed(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite records editors changed or deleted")
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only into a database that holds no events")
    ] = False,
) -> None:
    """Load the dataset: add what is missing, update what changed, keep editors' changes."""
    if ctx.invoked_subcommand is not None:
        return
    if if_empty and force:
        raise typer.BadParameter("--if-empty and --force exclude each other")
    settings = Settings()
    engine = build_engine(settings)
    try:
        if if_empty:
            # Under the migration lock, so replicas starting together seed once.
            with migration_lock(engine) as conn, Session(bind=conn) as session:
                if not is_empty(session):
                    typer.echo("the database already holds events; nothing seeded")
                    return
                report = load_dataset(session, read_and_check(SEED_DIR, settings.articles_dir))
                session.commit()
        else:
            report = seed_database(engine, articles_dir=settings.articles_dir, force=force)
    except SeedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(report.summary())
    if not settings.articles_dir.is_dir():
        typer.echo(
            f"note: {settings.articles_dir} not found; quotes and checksums were not verified"
        )


@seed_cli.command("check")
def seed_check(
    data: Annotated[Path, typer.Option(help="Folder of the dataset files")] = SEED_DIR,
    articles: Annotated[Path | None, typer.Option(help="Folder of the source articles")] = None,
) -> None:
    """Validate the dataset and print every problem with its file and line."""
    articles_dir = articles or Settings().articles_dir
    try:
        dataset = read_and_check(data, articles_dir)
    except SeedError as exc:
        for item in exc.problems:
            typer.echo(str(item), err=True)
        typer.echo(f"{len(exc.problems)} problem(s) found", err=True)
        raise typer.Exit(1) from None
    if not articles_dir.is_dir():
        typer.echo(f"note: {articles_dir} not found; quotes and checksums were not verified")
    typer.echo(
        f"ok: {len(dataset.actors)} actors, {len(dataset.programs)} programs, "
        f"{len(dataset.sources)} sources, {len(dataset.events)} events"
    )


@cli.command()
def export(
    out: Annotated[Path, typer.Option(help="Folder to write events.<format> into")] = Path("."),
    formats: Annotated[
        list[str], typer.Option("--format", help="csv, ndjson, ics, jsonld or timelinejs")
    ] = ["csv", "ndjson", "ics", "jsonld", "timelinejs"],  # noqa: B006
    query: Annotated[
        str, typer.Option(help="The API's filters as a query string, e.g. 'actor=russia&year=2021'")
    ] = "",
    base_url: Annotated[
        str, typer.Option(help="Public URL of the API, for the links in JSON-LD")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Write the same export files the API serves, for every event matching the filters."""
    database = Database(Settings())
    try:
        written = export_files(database, out, formats, query, base_url)
    except (ValueError, ProblemError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    for path in written:
        typer.echo(str(path))


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who the token is for; shown in the history")],
    scope: Annotated[
        list[str], typer.Option(help="editor (may write) or reader; repeatable")
    ] = DEFAULT_SCOPES,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    engine = build_engine(Settings())
    try:
        with Session(engine) as session:
            token = create_token(session, name.strip(), scope)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(token)
    typer.echo(f"token '{name}' created; store it now, it cannot be shown again", err=True)


@token_cli.command("list")
def token_list() -> None:
    """List tokens: name, prefix, scopes, created, revoked."""
    engine = build_engine(Settings())
    with Session(engine) as session:
        for token in list_tokens(session):
            revoked = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            typer.echo(
                f"{token.name}\t{token.prefix}…\t{token.scopes}\t"
                f"created {token.created_at:%Y-%m-%d %H:%M}\t{revoked}"
            )
    engine.dispose()


@token_cli.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name")]) -> None:
    """Revoke a token at once: it can no longer write."""
    engine = build_engine(Settings())
    with Session(engine) as session:
        revoked = revoke_token(session, name)
    engine.dispose()
    if not revoked:
        typer.echo(f"error: no active token named '{name}'", err=True)
        raise typer.Exit(1)
    typer.echo(f"token '{name}' revoked")


def main() -> None:
    cli(prog_name="timeline")


if __name__ == "__main__":
    main()
