"""Engines and connections: construction, PostgreSQL timeouts and SQLite pragmas."""

import json
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from app.core.config import Settings


def build_engine(
    settings: Settings, *, pre_ping: bool = True, pool_size: int | None = None
) -> Engine:
    """Create the engine for the configured database; nothing connects until first use.

    On PostgreSQL the pool tests each connection it hands out (`pre_ping`) unless told not
    to, and holds `pool_size` connections (with no overflow) when given one.
    """
    url = settings.sqlalchemy_url
    if settings.is_sqlite:
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
            **_sqlite_pool(url, settings),
        )
        _install_sqlite_pragmas(engine, settings)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=0 if pool_size else settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=pre_ping,
        # The connection used last first: its server process is still awake, where a
        # rotation wakes each in turn (and idle ones can time out on the server).
        pool_use_lifo=True,
        connect_args=connect_args(settings),
    )
    wait = patience(settings)
    if wait is not None:

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = PatientConnection.connect(*cargs, **cparams)
            connection.patience = wait
            return connection

    return engine


def connect_args(settings: Settings) -> dict[str, Any]:
    # The planner's default random_page_cost (4) prices an index lookup for spinning disks;
    # the timeline's data is small enough to live in memory, where a lookup costs about as
    # much as a sequential read. JIT compilation pays off only for long analytical queries:
    # ours take milliseconds, and the facets' recursive actor tree, whose size the planner
    # overestimates, spent 17-23 ms compiling a 30 ms query. Per session, so the server's
    # configuration is left alone.
    options = (
        f"-c statement_timeout={settings.db_statement_timeout_ms}"
        " -c random_page_cost=1.1 -c jit=off"
    )
    return {"connect_timeout": settings.db_connect_timeout, "options": options}


def libpq_dsn(url: URL) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg connects to it directly."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def patience(settings: Settings) -> float | None:
    """How long a PostgreSQL query may wait for an answer: the server cancels a slow
    statement itself; a server that has stopped answering cannot, so the client gives up once
    that plus a connection timeout has passed."""
    if not settings.db_statement_timeout_ms:
        return None
    return settings.db_statement_timeout_ms / 1000 + settings.db_connect_timeout


class PatientConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `patience` seconds for any answer.

    Without it, a query (or the pool's pre-ping) sent to a server that is frozen, or behind a
    network that drops packets, waits as long as TCP does: hours. With it the connection is
    closed and the request gets a 503, like any other lost connection.
    """

    patience: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        timeout = timeout if timeout is not None else self.patience
        try:
            return super().wait(gen, interval, timeout)
        except psycopg.errors._WaitTimeout:
            raise _gave_up(self.pgconn, timeout) from None


class PatientAsyncConnection(psycopg.AsyncConnection[Any]):
    """`PatientConnection` for reads awaited on the event loop (`LoopPool`)."""

    patience: float | None = None

    async def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        timeout = timeout if timeout is not None else self.patience
        try:
            return await super().wait(gen, interval, timeout)
        except psycopg.errors._WaitTimeout:
            raise _gave_up(self.pgconn, timeout) from None


class GaveUp(psycopg.OperationalError):
    """The database did not answer within a connection's patience."""


def _gave_up(pgconn: Any, seconds: float | None) -> GaveUp:
    pgconn.finish()  # half a conversation: the connection cannot be reused
    return GaveUp(f"the database did not answer within {seconds} s")


def _sqlite_pool(url: str, settings: Settings) -> dict[str, Any]:
    """File databases reuse connections (each opening runs the pragmas below) from a pool as
    large as PostgreSQL's, so concurrency limits behave alike, the most recently used first,
    so the pages read most stay in a few connections' caches; an in-memory database is one
    connection shared by all threads, or each thread would see an empty database."""
    if url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url:
        return {"poolclass": StaticPool}
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_use_lifo": True,
    }


def _install_sqlite_pragmas(engine: Engine, settings: Settings) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not pysqlite, decides where transactions begin (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size={-1024 * int(settings.sqlite_cache_mib)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front, so two writers never both read then both write.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, beginning transactions that write (IMMEDIATE on SQLite)."""
    return engine.execution_options(sqlite_immediate=True)


def in_ids(column: Any, ids: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """`column IN ids` with the list bound as one parameter (a JSON array on SQLite, an array
    on PostgreSQL): long lists compile once instead of growing the statement per id."""
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(ids), ARRAY(String))))
    values: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(ids)), String))
    )
    return cast(ColumnElement[bool], column.in_(values))
