"""Engine construction, SQLite pragmas and the request-scoped session dependency."""

import asyncio
import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Annotated, Any, cast

import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool, PoolTimeout
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
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session, create_engine

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
        connect_args=_connect_args(settings),
    )
    patience = _patience(settings)
    if patience is not None:

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = PatientConnection.connect(*cargs, **cparams)
            connection.patience = patience
            return connection

    return engine


def _connect_args(settings: Settings) -> dict[str, Any]:
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


def _patience(settings: Settings) -> float | None:
    """How long a PostgreSQL query may wait for an answer: the server cancels a slow
    statement itself; a server that has stopped answering cannot, so the client gives up once
    that plus a connection timeout has passed."""
    if not settings.db_statement_timeout_ms:
        return None
    return settings.db_statement_timeout_ms / 1000 + settings.db_connect_timeout


# How long a list request waits for a connection of the loop's pool before its page is read
# in a thread instead: under load a connection is free within milliseconds, and when none
# can be made (the server restarting, or out of connections) the thread's pool answers.
LOOP_POOL_WAIT = 0.25


class LoopReads:
    """Asynchronous PostgreSQL connections for reads made on the event loop itself.

    A read in a worker thread costs two hand-offs between threads on top of its round trip
    to the server (to the thread and back to the loop); a read awaited on the loop costs
    none. The pool opens connections when they are first needed, at most `READ_THREADS`,
    and is used only by the loop that opened it (the app's lifespan opens and closes it).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: AsyncConnectionPool[PatientAsyncConnection] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        """A new pool (one cannot be reopened, and a lifespan may run more than once)."""
        await self.close()
        patience = _patience(self.settings)

        async def configure(connection: PatientAsyncConnection) -> None:
            connection.patience = patience

        self.pool = AsyncConnectionPool(
            libpq_dsn(make_url(self.settings.sqlalchemy_url)),
            connection_class=PatientAsyncConnection,
            min_size=0,
            max_size=self.settings.read_threads,
            kwargs={"autocommit": True, **_connect_args(self.settings)},
            configure=configure,
            name="loop-reads",
            open=False,
        )
        await self.pool.open()
        self.loop = asyncio.get_running_loop()

    async def close(self) -> None:
        pool, self.pool, self.loop = self.pool, None, None
        if pool is not None:
            await pool.close()

    def usable(self) -> bool:
        """Whether this loop may use the pool (a test client may run requests on another)."""
        return self.loop is not None and self.loop is asyncio.get_running_loop()

    async def fetch(
        self, statement: ClauseElement, values: dict[str, Any]
    ) -> list[tuple[Any, ...]] | None:
        """Every row of one statement, prepared on the server; None when no connection was
        free within `LOOP_POOL_WAIT`. A connection that fails, or waits longer than its
        patience for an answer, is closed and the error raised; the pool makes a new one."""
        assert self.pool is not None, "used before open()"
        sql = _psycopg_sql(statement)
        try:
            async with self.pool.connection(timeout=LOOP_POOL_WAIT) as connection:
                cursor = await connection.execute(sql, values, prepare=True)
                return await cursor.fetchall()
        except PoolTimeout:
            return None


@lru_cache(maxsize=256)
def _psycopg_sql(statement: ClauseElement) -> str:
    """A statement (those read on the loop are built once each) as the engine's psycopg
    dialect writes it."""
    return str(statement.compile(dialect=_PSYCOPG))


_PSYCOPG = PGDialect_psycopg()


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
    """`PatientConnection` for the event loop's reads (`LoopReads`)."""

    patience: float | None = None

    async def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        timeout = timeout if timeout is not None else self.patience
        try:
            return await super().wait(gen, interval, timeout)
        except psycopg.errors._WaitTimeout:
            raise _gave_up(self.pgconn, timeout) from None


def _gave_up(pgconn: Any, seconds: float | None) -> psycopg.OperationalError:
    pgconn.finish()  # half a conversation: the connection cannot be reused
    return psycopg.OperationalError(f"the database did not answer within {seconds} s")


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


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, bound to the engine that create_app built."""
    unreachable(request)
    with Session(request.app.state.engine) as session:
        yield session


def unreachable(request: Request) -> None:
    """Raise the 503 of a read whose data version could not be read moments ago (see
    `ResponseCacheMiddleware`): asking again would make the client wait twice as long for
    the same answer."""
    failure: BaseException | None = getattr(request.state, "database_unreachable", None)
    if failure is not None:
        raise OperationalError("reading the data version", None, failure)


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for one write transaction; the route commits it, or nothing is kept."""
    with Session(writer(request.app.state.engine)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]


def in_ids(column: Any, ids: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """`column IN ids` with the list bound as one parameter (a JSON array on SQLite, an array
    on PostgreSQL): long lists compile once instead of growing the statement per id."""
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(ids), ARRAY(String))))
    values: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(ids)), String))
    )
    return cast(ColumnElement[bool], column.in_(values))
