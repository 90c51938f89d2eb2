"""Caches keyed by the data version: whole GET responses, and costly counts.

Every write bumps the data version in the database, and each request reads it once, so
every worker and replica stops serving an entry the moment anything changes.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.database import UNREACHABLE, Database
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


class ResponseCacheMiddleware:
    """Serve repeated API GETs (and HEADs) from memory, keyed by the data version and the whole
    request, Origin included.

    Sits inside the request-id/logging layer and outside everything else, so a hit is logged
    like any answer and costs one read of the data version; the cached headers are those the
    inner layers (security headers and CORS among them) gave the first answer. A matching
    If-None-Match is answered 304 from the cached ETag.
    """

    def __init__(
        self, app: ASGIApp, *, database: Database, max_entries: int, max_body: int = 2 << 20
    ) -> None:
        self.app = app
        self.database = database
        self.cache: LRU[CachedResponse] = LRU(max_entries)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        try:
            version = await self.database.data_version()
        except UNREACHABLE as exc:
            # The app answers, with its 503, at once: asking the database again would double
            # the wait of every request while it is away (see `app.core.database.unreachable`).
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
