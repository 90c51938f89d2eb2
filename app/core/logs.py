"""Structured JSON logs and the request-id / access-log middleware."""

import contextlib
import logging
import re
import sys
import threading
import time
import weakref
from random import getrandbits
from typing import Any, TextIO

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("app.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k not in self._skip}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return self.render(
            record.created, record.levelname.lower(), record.name, record.getMessage(), fields
        )

    def render(
        self, created: float, level: str, logger: str, message: str, fields: dict[str, Any]
    ) -> str:
        second = int(created)
        if second != self._second:  # one strftime a second, not one a line
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", self.converter(created))
            self._second = second
        entry = {"time": self._stamp, "level": level, "logger": logger, "message": message}
        entry.update(fields)
        return orjson.dumps(entry, default=str).decode()


class BatchingHandler(logging.StreamHandler[TextIO]):
    """Write access lines in batches, as nginx's buffered access log does; everything else
    at once.

    One write per request cost a cached answer as much as the rest of its work. Access lines
    are written when `size` characters are waiting, `delay` seconds after the first of them
    at the latest, before any other record (so the order holds), and when logging shuts
    down. A process killed outright loses at most `delay` seconds of access lines; warnings
    and errors are never held back.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        batched: str = "app.access",
        delay: float = 1.0,
        size: int = 1 << 16,
    ) -> None:
        super().__init__(stream)
        self.batched, self.delay, self.size = batched, delay, size
        self._pending: list[str] = []
        self._pending_size = 0
        self._since = 0.0
        _flushed_periodically(self)

    def emit(self, record: logging.LogRecord) -> None:  # called with self.lock held
        try:
            line = self.format(record)
            if record.name == self.batched:
                self.add(line)
            else:
                self._write(line + self.terminator)
        except Exception:
            self.handleError(record)

    def add(self, line: str) -> None:
        """Batch a line rendered already (see `log_request`)."""
        with self.lock:  # type: ignore[union-attr]
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append(line + self.terminator)
            self._pending_size += len(line) + 1
            if self._pending_size >= self.size or time.monotonic() - self._since >= self.delay:
                self._write_batch()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._pending:
                self._write_batch()
            else:
                with contextlib.suppress(OSError, ValueError):  # a stream closed already
                    super().flush()

    def _write_batch(self) -> None:
        try:
            self._write("")
        except (OSError, ValueError):
            # The stream is gone (closed, or its disk full): the lines are dropped, as
            # logging.shutdown does, rather than a request failing for them.
            self._pending.clear()
            self._pending_size = 0

    def _write(self, line: str) -> None:
        text = "".join(self._pending) + line
        self._pending.clear()
        self._pending_size = 0
        self.stream.write(text)
        self.stream.flush()


_batching: "weakref.WeakSet[BatchingHandler]" = weakref.WeakSet()
_flusher_lock = threading.Lock()
_flusher: threading.Thread | None = None


def _flushed_periodically(handler: BatchingHandler) -> None:
    """Register the handler with the one thread that flushes every batching handler."""
    global _flusher
    _batching.add(handler)
    with _flusher_lock:
        if _flusher is None:
            _flusher = threading.Thread(target=_flush_forever, name="log-flush", daemon=True)
            _flusher.start()


def _flush_forever() -> None:
    while True:
        time.sleep(0.25)
        for handler in list(_batching):
            if handler._pending and time.monotonic() - handler._since >= handler.delay:
                # This thread serves every handler: one failing must not stop it.
                with contextlib.suppress(Exception):
                    handler.flush()


def configure_logging(level: str) -> None:
    # The JSON lines show no thread or process: not looking them up saves time on each line.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BatchingHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("app")
    for old in root.handlers:
        old.flush()
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class RequestIdMiddleware:
    """Accept a sane `X-Request-ID` or make one, echo it, and log one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), ""
        )
        # A request id names a request, it guards nothing: the process's Mersenne Twister
        # (seeded from the OS, reseeded in forked children) is unique enough and spares a
        # system call per request.
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else f"{getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                log_request(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": scope.get("query_string", b"").decode("latin-1")[:500],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "request_id": request_id,
                    }
                )


def log_request(fields: dict[str, Any]) -> None:
    """The access line of one request.

    When the access log goes, as `configure_logging` sets it up, to one batching handler with
    nothing in between, the line is rendered and batched directly: a LogRecord and its
    dispatch cost more than answering from the cache. Any other set-up gets a record, as
    `Logger.info` would make (without walking the stack for a file and line no line shows).
    """
    handler = _direct_handler()
    if handler is not None:
        formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]
        handler.add(formatter.render(time.time(), "info", access_log.name, "request", fields))
        return
    access_log.handle(
        access_log.makeRecord(
            access_log.name, logging.INFO, "", 0, "request", (), None, extra=fields
        )
    )


def _direct_handler() -> BatchingHandler | None:
    parent = access_log.parent
    if access_log.handlers or access_log.filters or not access_log.propagate or parent is None:
        return None
    if parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if (
        not isinstance(handler, BatchingHandler)
        or handler.filters
        or handler.level > logging.INFO
        or not isinstance(handler.formatter, JsonFormatter)
    ):
        return None
    return handler
