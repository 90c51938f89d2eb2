"""The database object: every engine, pool and connection the app reads and writes through.

`create_app` builds one `Database` from the settings (nothing connects yet) and the lifespan
opens and closes it. Routes reach it through `DatabaseDep` (or the session dependencies
below); no other code builds engines or connections of its own.
"""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql import ClauseElement
from sqlmodel import Session
from starlette.types import Scope

from app.core.config import Settings
from app.core.db import (
    GaveUp,
    PatientAsyncConnection,
    build_engine,
    connect_args,
    libpq_dsn,
    patience,
    writer,
)
from app.core.versioning import read_data_version

T = TypeVar("T")

# How long a read waits for a connection of the loop's pool before it is made in a thread
# instead: under load a connection is free within milliseconds, and when none can be made
# (the server restarting, or out of connections) the thread's pool answers.
LOOP_POOL_WAIT = 0.25
VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"


class VersionUnavailable(Exception):
    """The shared read of the data version failed or was abandoned."""


# How a read of the version fails when the database is away: the driver's operational
# errors (connection refused, lost, timed out; SQLite's file unreadable or locked), a socket
# error, or no answer within the connect timeout (TimeoutError is an OSError). A failure of
# another kind (a table missing, a bug) is left for the app's own reads to meet and report.
UNREACHABLE = (psycopg.OperationalError, sqlite3.OperationalError, OSError, VersionUnavailable)


class Database:
    """The app's connections to its database.

    - `engine`: the sessions of routes and of every write (on PostgreSQL its pool tests each
      connection it hands out).
    - `read()`: a read of the event reader in a worker thread, at most READ_THREADS at once,
      on connections of their own (on PostgreSQL without a transaction or a test per
      checkout: the version was read on the same server moments before).
    - `fetch()`: one prepared statement awaited on the event loop itself (PostgreSQL).
    - `data_version()`: the version of the data, read on the loop's own connection.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(settings)
        self.dialect = self.engine.dialect.name
        self._engines = [self.engine]
        self.read_engine = self.engine
        self._loop: LoopPool | None = None
        self.read_limiter = anyio.CapacityLimiter(settings.read_threads)
        if self.dialect == "postgresql":
            # READ COMMITTED takes a snapshot per statement, in a transaction or not: reads
            # skip BEGIN and ROLLBACK, two round trips fewer each.
            reads = build_engine(settings, pre_ping=False, pool_size=settings.read_threads)
            self._engines.append(reads)
            self.read_engine = reads.execution_options(isolation_level="AUTOCOMMIT")
            self._loop = LoopPool(settings)
        self.versions = VersionReads(self)

    async def open(self) -> None:
        """Start what lives on the event loop (the lifespan calls it)."""
        if self._loop is not None:
            await self._loop.open()

    async def close(self) -> None:
        await self.versions.close()
        if self._loop is not None:
            await self._loop.close()
        self.dispose()

    def dispose(self) -> None:
        """Close the pools' connections (what a command-line run opened)."""
        for engine in self._engines:
            engine.dispose()

    def session(self) -> Session:
        """A session on the main engine, for routes and long reads (exports)."""
        return Session(self.engine)

    def write_session(self) -> Session:
        """A session for one write transaction (SQLite: the write lock taken at BEGIN)."""
        return Session(writer(self.engine))

    async def read(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)` in a worker thread with a read session; a connection the
        server dropped since its last use is replaced and the read made once more."""
        return await anyio.to_thread.run_sync(
            self._read_in_thread, work, args, limiter=self.read_limiter
        )

    def _read_in_thread(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            with Session(self.read_engine) as session:
                return work(session, *args)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with Session(self.read_engine) as session:
            return work(session, *args)

    def reads_on_loop(self) -> bool:
        """Whether reads can be awaited on this event loop (PostgreSQL, once opened)."""
        return self._loop is not None and self._loop.usable()

    async def fetch(
        self, statement: ClauseElement, values: dict[str, Any]
    ) -> list[tuple[Any, ...]] | None:
        """Every row of one statement, prepared on the server and awaited on the loop; None
        when no connection was free within `LOOP_POOL_WAIT` (read in a thread instead)."""
        assert self._loop is not None, "fetch() is for PostgreSQL"
        return await self._loop.fetch(statement, values)

    async def data_version(self) -> int:
        """The data version, read on a connection of the event loop's own."""
        return await self.versions.read()

    async def data_version_in_thread(self) -> int:
        """The data version read through a session, in a thread: the slow way, whose
        errors are those of any other read."""
        return await anyio.to_thread.run_sync(self._version_in_thread)

    def _version_in_thread(self) -> int:
        with Session(self.engine) as session:
            return read_data_version(session)


class LoopPool:
    """Asynchronous PostgreSQL connections for reads awaited on the event loop.

    A read in a worker thread costs two hand-offs between threads on top of its round trip
    to the server (to the thread and back to the loop); a read awaited on the loop costs
    none. The pool opens connections when they are first needed, at most READ_THREADS, and
    is used only by the loop that opened it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: AsyncConnectionPool[PatientAsyncConnection] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        """A new pool (one cannot be reopened, and a lifespan may run more than once)."""
        await self.close()
        wait = patience(self.settings)

        async def configure(connection: PatientAsyncConnection) -> None:
            connection.patience = wait

        self.pool = AsyncConnectionPool(
            libpq_dsn(make_url(self.settings.sqlalchemy_url)),
            connection_class=PatientAsyncConnection,
            min_size=0,
            max_size=self.settings.read_threads,
            kwargs={"autocommit": True, **connect_args(self.settings)},
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
        """A connection the server dropped is closed, and the read made once more on a new
        one; any other failure (a server that does not answer within the patience among
        them) is raised as SQLAlchemy would raise it, for the app's error handlers (a lost
        server is a 503)."""
        assert self.pool is not None, "used before open()"
        sql = _psycopg_sql(statement)
        for attempt in (1, 2):
            try:
                async with self.pool.connection(timeout=LOOP_POOL_WAIT) as connection:
                    try:
                        cursor = await connection.execute(sql, values, prepare=True)
                        return await cursor.fetchall()
                    except psycopg.Error as exc:
                        dropped = connection.closed or connection.broken
                        if dropped and attempt == 1 and not isinstance(exc, GaveUp):
                            continue
                        raise DBAPIError.instance(
                            sql,
                            values,
                            exc,
                            psycopg.Error,
                            connection_invalidated=dropped,
                            dialect=_PSYCOPG,
                        ) from exc
            except PoolTimeout:
                return None
        raise AssertionError("unreachable")


@lru_cache(maxsize=256)
def _psycopg_sql(statement: ClauseElement) -> str:
    """A statement (those read on the loop are built once each) as the engine's psycopg
    dialect writes it."""
    return str(statement.compile(dialect=_PSYCOPG))


_PSYCOPG = PGDialect_psycopg()


@dataclass(eq=False)
class _Read:
    done: asyncio.Event = field(default_factory=asyncio.Event)
    value: int | None = None


class SharedReads:
    """Requests that arrive while a read of the version is on its way share the next one.

    Every request still gets a version read after it arrived, so it sees every write committed
    before it: a request joins the read that has not been sent yet, never one in flight. With
    many requests at once, one round trip serves them all instead of one each.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, query: Callable[[], Awaitable[int]]):
        self.loop = loop
        self._query = query
        self._lock = asyncio.Lock()
        self._waiting: _Read | None = None

    async def read(self) -> int:
        waiting = self._waiting
        if waiting is not None:  # not sent yet: its answer will be newer than our arrival
            await waiting.done.wait()
            if waiting.value is None:
                raise VersionUnavailable
            return waiting.value
        waiting = self._waiting = _Read()
        try:
            async with self._lock:  # one read at a time on the one connection
                self._waiting = None  # sent now: whoever comes next waits for the next read
                waiting.value = await self._query()
                return waiting.value
        finally:
            if self._waiting is waiting:  # cancelled before it was sent
                self._waiting = None
            waiting.done.set()


class VersionReads:
    """The data version, read on connections of the event loop's own, never from a pool
    (the loop must not wait for pooled connections that only the loop can give back): a
    local file (SQLite) answers in microseconds; PostgreSQL is asked asynchronously, by
    requests arriving together in one round trip (`SharedReads`)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.local = database.dialect == "sqlite"
        self.connect_timeout = database.settings.db_connect_timeout
        self._own: Any = None
        self._cursor: Any = None
        self._async: psycopg.AsyncConnection[Any] | None = None
        self._reads: SharedReads | None = None

    async def read(self) -> int:
        if self.local:
            return self._local_version()
        loop = asyncio.get_running_loop()
        if self._reads is None or self._reads.loop is not loop:
            self._reads = SharedReads(loop, self._query_remote_version)
        return await self._reads.read()

    async def close(self) -> None:
        await self._drop_connection()
        own, self._own, self._cursor = self._own, None, None
        if own is not None:
            own.close()

    async def _query_remote_version(self) -> int:
        """One read of the version, given up on after the connect timeout. A connection kept
        from earlier reads that fails (the server restarted since) is replaced once within
        that time, so the request after a restart reads the version, not a 503."""
        try:
            with _no_answer_within(self.connect_timeout):
                kept = self._async is not None
                try:
                    return await self._read_version()
                except psycopg.Error:
                    if not kept:
                        raise
                    await self._drop_connection()
                    return await self._read_version()
        except BaseException:
            await self._drop_connection()
            raise

    async def _read_version(self) -> int:
        if self._async is None:
            self._async = await psycopg.AsyncConnection.connect(
                libpq_dsn(self.engine.url), autocommit=True, connect_timeout=self.connect_timeout
            )
        cursor = await self._async.execute(VERSION_SQL, prepare=True)
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _drop_connection(self) -> None:
        connection, self._async = self._async, None
        if connection is not None:
            with anyio.move_on_after(1, shield=True):
                await connection.close()

    def _local_version(self) -> int:
        try:
            if self._cursor is None:
                self._own = self.engine.raw_connection()
                self._cursor = self._own.driver_connection.cursor()
            row = self._cursor.execute(VERSION_SQL).fetchone()
            return int(row[0]) if row else 0
        except Exception:
            own, self._own, self._cursor = self._own, None, None
            if own is not None:
                own.invalidate()
            raise


@contextmanager
def _no_answer_within(seconds: float) -> Iterator[None]:
    """`anyio.fail_after`, whose TimeoutError says what it timed (the 503's log line)."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise TimeoutError(f"no answer within {seconds:g} s") from None


def database_of(scope: Request | Scope) -> Database:
    """The app's database, from a request or an ASGI scope."""
    app = scope.app if isinstance(scope, Request) else scope["app"]
    database: Database = app.state.database
    return database


async def get_database(request: Request) -> Database:
    # async: FastAPI would run a plain function in the thread pool, a hop for a lookup.
    return database_of(request)


DatabaseDep = Annotated[Database, Depends(get_database)]


def unreachable(request: Request) -> None:
    """Raise the 503 of a read whose data version could not be read moments ago (see
    `ResponseCacheMiddleware`): asking again would make the client wait twice as long for
    the same answer."""
    failure: BaseException | None = getattr(request.state, "database_unreachable", None)
    if failure is not None:
        raise OperationalError("reading the data version", None, failure)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request on the app's engine."""
    unreachable(request)
    with database_of(request).session() as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for one write transaction; the route commits it, or nothing is kept."""
    with database_of(request).write_session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
