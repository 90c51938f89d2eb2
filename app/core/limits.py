"""Request size and write-rate limits."""

import math
import threading
import time

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_JSON, ProblemError


class RateLimitedError(ProblemError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class WriteRateLimiter:
    """A token bucket per API token, in this process (each worker counts on its own)."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, token_id: int) -> None:
        """Take one write from the bucket or raise RateLimitedError with Retry-After."""
        now = time.monotonic()
        with self._lock:
            level, stamp = self._buckets.get(token_id, (self.capacity, now))
            level = min(self.capacity, level + (now - stamp) * self.rate)
            if level < 1.0:
                wait = math.ceil((1.0 - level) / self.rate)
                self._buckets[token_id] = (level, now)
                raise RateLimitedError(
                    f"this token may make {int(self.capacity)} writes a minute; retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
            self._buckets[token_id] = (level - 1.0, now)


class AuthFailureLimiter:
    """Failed authentications per client address, in this process: past `per_minute` of
    them, a failure is answered 429 with Retry-After instead of 401. Valid tokens are never
    counted nor refused, so an editor behind the same address as a prober keeps working."""

    MAX_ADDRESSES = 10_000

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def fail(self, address: str) -> None:
        """Count one failure; raise RateLimitedError once the address has used its allowance."""
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.MAX_ADDRESSES:
                self._forget_refilled(now)
            level, stamp = self._buckets.get(address, (self.capacity, now))
            level = min(self.capacity, level + (now - stamp) * self.rate)
            self._buckets[address] = (max(level - 1.0, -1.0), now)
            if level < 1.0:
                wait = math.ceil((1.0 - level) / self.rate)
                raise RateLimitedError(
                    f"too many failed authentications from this address; retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )

    def _forget_refilled(self, now: float) -> None:
        full = [
            address
            for address, (level, stamp) in self._buckets.items()
            if level + (now - stamp) * self.rate >= self.capacity
        ]
        for address in full or list(self._buckets)[: self.MAX_ADDRESSES // 2]:
            del self._buckets[address]


class BodySizeLimitMiddleware:
    """Refuse request bodies over the limit with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTP exceptions from body reading; the handler answers.
                    raise HTTPException(413, self._detail)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def _detail(self) -> str:
        return f"request bodies are limited to {self.max_bytes} bytes"

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": PROBLEM_BASE + "too-large",
                "title": "Content too large",
                "status": 413,
                "detail": self._detail,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
