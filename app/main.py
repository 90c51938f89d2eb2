"""The application factory: settings in, a wired FastAPI app out."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.middleware import Middleware

from app.actors.router import router as actors_router
from app.core.cache import ResponseCacheMiddleware
from app.core.config import Settings
from app.core.cors import SplitCORS
from app.core.database import Database
from app.core.docs import install_docs
from app.core.errors import CrashMiddleware, install_error_handlers
from app.core.health import router as health_router
from app.core.http import HeadAsGetMiddleware, install_cache_handlers
from app.core.keys import load_cursor_secret
from app.core.limits import AuthFailureLimiter, BodySizeLimitMiddleware, WriteRateLimiter
from app.core.logs import RequestIdMiddleware, configure_logging
from app.core.migrate import migration_lock, upgrade
from app.core.openapi import install_openapi
from app.core.security import RejectNulMiddleware, SecurityHeadersMiddleware
from app.events.editing import router as editing_router
from app.events.reader import EventReader
from app.events.router import router as events_router
from app.events.writes import store_missing_documents
from app.history.router import router as history_router
from app.programs.router import router as programs_router
from app.sources.router import router as sources_router
from app.timeline.router import router as timeline_router
from app.web.router import STATIC_PATH, page_assets
from app.web.router import router as web_router
from seed.loader import SEED_DIR, is_empty, load_dataset, read_and_check

log = logging.getLogger("app.main")

DESCRIPTION = """
A curated, sourced timeline of international space cooperation and its break-ups: the ISS,
the Artemis Accords, the Russia–China lunar station, Russia's planned ISS exit and more.

Every event links to the news articles that report it, with the exact sentence that supports
it. Where articles give different dates, each claim is shown with its source and the event is
marked `disputed`. Filter by actor (names and aliases work: `Roscosmos`, `U.S.`), year,
program, kind, status or source.
"""


def build_missing_documents(conn: Connection) -> None:
    """Store the documents of events that have none (events older than the table)."""
    with Session(bind=conn) as session:
        built = store_missing_documents(session)
        session.commit()
    if built:
        log.info("stored event documents", extra={"events": built})


def prepare_database(engine: Engine, settings: Settings, *, migrate: bool, seed: bool) -> None:
    """Migrate and seed an empty database, once, even when several processes start together."""
    if not (migrate or seed):
        return
    with migration_lock(engine) as conn:
        if migrate:
            upgrade(conn)
            build_missing_documents(conn)
        if seed:
            with Session(bind=conn) as session:
                if is_empty(session):
                    dataset = read_and_check(SEED_DIR, settings.articles_dir)
                    report = load_dataset(session, dataset)
                    session.commit()
                    log.info("seeded an empty database", extra={"seed": report.summary()})


def serving_app() -> FastAPI:
    """The app as `python -m app serve` runs it in each worker: a long-lived process."""
    return create_app(serving=True)


def _settle_collector() -> None:
    """For a long-lived server: what start-up built lives as long as the process, so the
    garbage collector stops scanning it (`gc.freeze`), and it collects young objects less
    often. Full collections over a ~100 MiB heap were the slow tail of a loaded worker
    (cold mix at 64 connections, p99: 124–171 ms before, 84–106 ms after)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def create_app(settings: Settings | None = None, *, serving: bool = False) -> FastAPI:
    """Build the app and its database object; nothing connects until the app starts."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_database(
            database.engine, settings, migrate=settings.auto_migrate, seed=settings.auto_seed
        )
        load_cursor_secret(app)
        if serving:
            _settle_collector()
        await database.open()
        yield
        await database.close()

    app = FastAPI(
        title="Space Cooperation Timeline",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        middleware=middleware(settings, database),
        # No OpenTelemetry here: checking for it on every request costs more than a cache hit.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.event_reader = EventReader(database)
    app.state.write_limiter = WriteRateLimiter(settings.write_rate_per_minute)
    app.state.auth_failures = AuthFailureLimiter(settings.auth_failures_per_minute)
    install_error_handlers(app, settings.retry_after_seconds)
    install_cache_handlers(app)
    routers = (
        timeline_router,
        events_router,
        editing_router,
        actors_router,
        programs_router,
        sources_router,
        history_router,
        health_router,
        web_router,
    )
    for router in routers:
        app.include_router(router)
    app.mount(STATIC_PATH, page_assets(), name="web-static")
    install_docs(app)
    install_openapi(app)
    return app


def middleware(settings: Settings, database: Database) -> list[Middleware]:
    """Every layer a request passes, outermost first (Starlette's own ServerErrorMiddleware
    wraps them all, and its ExceptionMiddleware sits between the last and the routes)."""
    return [
        # A request id for every answer, and one access line; then cache hits, which skip
        # every layer below: the answers they replay carry the headers those layers added.
        Middleware(RequestIdMiddleware),
        Middleware(
            ResponseCacheMiddleware,
            database=database,
            max_entries=settings.response_cache_entries,
        ),
        Middleware(SecurityHeadersMiddleware),
        Middleware(RejectNulMiddleware),
        # Crashes answered as problems, inside the layers above so they carry their headers.
        Middleware(CrashMiddleware),
        Middleware(HeadAsGetMiddleware),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        # Reads from CORS_ORIGINS, writes only from CORS_WRITE_ORIGINS (app/core/cors.py).
        Middleware(SplitCORS, read=settings.cors_origins, write=settings.cors_write_origins),
    ]


def _operation_id(route: APIRoute) -> str:
    return route.operation_id or route.name
