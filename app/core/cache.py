"""Caches keyed by the data version: whole GET responses, and costly counts.

Every write bumps the data version in the database, and each request reads it once, so
every worker and replica stops serving an entry the moment anything changes.
"""

import asyncio
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import anyio
import psycopg
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import libpq_dsn
from app.core.security import SECURITY_HEADERS

V = TypeVar("V")


class LRU(Generic[V]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value


CachedResponse = tuple[int, list[tuple[bytes, bytes]], bytes]
VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"


class VersionUnavailable(Exception):
    """The shared read of the data version failed or was abandoned."""


# How a read of the version fails when the database is away: the driver's operational
# errors (connection refused, lost, timed out; SQLite's file unreadable or locked), a socket
# error, or no answer within the connect timeout (TimeoutError is an OSError). A failure of
# another kind (a table missing, a bug) is left for the app's own reads to meet and report.
UNREACHABLE = (psycopg.OperationalError, sqlite3.OperationalError, OSError, VersionUnavailable)


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


# What a 304 keeps of the cached answer: its validators, what CORS needs to read it, and
# the security headers every answer carries.
_KEPT_ON_304 = (
    b"etag",
    b"cache-control",
    b"vary",
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-expose-headers",
    *(name.lower().encode() for name, _ in SECURITY_HEADERS),
)


@contextmanager
def _no_answer_within(seconds: float) -> Iterator[None]:
    """`anyio.fail_after`, whose TimeoutError says what it timed (the 503's log line)."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise TimeoutError(f"no answer within {seconds:g} s") from None


class ResponseCacheMiddleware:
    """Serve repeated API GETs (and HEADs) from memory, keyed by the data version and the whole
    request, Origin included.

    Sits inside the request-id/logging layer and outside everything else, so a hit is logged
    like any answer and costs one read of the data version; the cached headers are those the
    inner layers (security headers and CORS among them) gave the first answer. A matching
    If-None-Match is answered 304 from the cached ETag.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: Engine,
        max_entries: int,
        connect_timeout: int = 5,
        max_body: int = 2 << 20,
    ) -> None:
        self.app = app
        self.engine = engine
        self.cache: LRU[CachedResponse] = LRU(max_entries)
        self.max_body = max_body
        self.local = engine.dialect.name == "sqlite"
        self.connect_timeout = connect_timeout
        self._own: Any = None
        self._cursor: Any = None
        self._async: psycopg.AsyncConnection[Any] | None = None
        self._reads: SharedReads | None = None

    async def _remote_version(self) -> int:
        """The version over an asynchronous connection of the event loop's own, shared by the
        requests that arrive together (see `SharedReads`)."""
        loop = asyncio.get_running_loop()
        if self._reads is None or self._reads.loop is not loop:
            self._reads = SharedReads(loop, self._query_remote_version)
        return await self._reads.read()

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
        """The version from a connection of the event loop's own, never from the pool: the
        loop must not wait for pooled connections that only the loop can give back."""
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        try:
            # Read on connections of the event loop's own: a local file (SQLite) answers in
            # microseconds; PostgreSQL is asked asynchronously.
            version = self._local_version() if self.local else await self._remote_version()
        except UNREACHABLE as exc:
            # The app answers, with its 503, at once: asking the database again would double
            # the wait of every request while it is away (see `app.core.db.unreachable`).
            scope.setdefault("state", {})["database_unreachable"] = exc
            await self.app(scope, receive, send)
            return
        except Exception:  # not the database's doing: the app's own reads will tell
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["data_version"] = version
        if self.cache.max_entries <= 0:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = (
            version,
            datetime.now(UTC).date(),  # "planned date passed" changes with the day
            scope.get("scheme"),
            headers.get(b"host"),
            headers.get(b"origin"),  # CORS answers depend on it
            scope["path"],
            tuple(sorted(scope.get("query_string", b"").split(b"&"))),
        )
        hit = self.cache.get(key)
        head = scope["method"] == "HEAD"
        if hit is not None:
            await self._replay(hit, headers.get(b"if-none-match"), send, head)
        elif head:
            await self.app(scope, receive, send)
        else:
            await self._fill(key, scope, receive, send)

    async def _replay(
        self, hit: CachedResponse, if_none_match: bytes | None, send: Send, head: bool
    ) -> None:
        status, headers, body = hit
        etag = next((v for k, v in headers if k == b"etag"), None)
        if etag is not None and if_none_match is not None:
            tags = {t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")}
            if etag in tags or b"*" in tags:
                kept = [(k, v) for k, v in headers if k in _KEPT_ON_304]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    async def _fill(self, key: Any, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, size, keep
            if message["type"] == "http.response.start":
                # A copy: the layers outside add their own headers (the request id) to it.
                start = {**message, "headers": list(message.get("headers", []))}
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(chunk)
                if not message.get("more_body", False) and keep and start is not None:
                    self.cache.put(key, (200, list(start["headers"]), b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)
