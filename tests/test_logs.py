"""Logs: one JSON access line per request, batched, never out of order with other records."""

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.core.logs import BatchingHandler, JsonFormatter, access_log, log_request


@pytest.fixture
def lines(mini: TestClient) -> Iterator[io.StringIO]:
    """Where the app's log handler writes, for the duration of a test (alone: pytest's own
    capture handlers, which it may have added, are put back afterwards)."""
    app_logger = logging.getLogger("app")
    kept = list(app_logger.handlers)
    (handler,) = [h for h in kept if isinstance(h, BatchingHandler)]
    handler.flush()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    app_logger.handlers[:] = [handler]
    yield stream
    handler.flush()
    handler.setStream(previous)
    app_logger.handlers[:] = kept


def _written(stream: io.StringIO) -> list[dict[str, Any]]:
    logging.getLogger("app").handlers[0].flush()
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_every_request_gets_one_access_line_with_its_id(
    mini: TestClient, lines: io.StringIO
) -> None:
    url = "/api/v1/events?actor=russia&year=2021"
    first = mini.get(url, headers={"X-Request-ID": "first-one"})
    second = mini.get(url)  # the same answer, from the cache
    missing = mini.get("/api/v1/events/nope")
    assert (first.status_code, second.status_code, missing.status_code) == (200, 200, 404)
    logged = [line for line in _written(lines) if line["logger"] == "app.access"]
    ids = [r.headers["x-request-id"] for r in (first, second, missing)]
    assert [line["request_id"] for line in logged] == ids
    assert ids[0] == "first-one"
    assert len(set(ids)) == 3
    assert logged[0] | {"time": "t", "duration_ms": 0} == {
        "time": "t",
        "level": "info",
        "logger": "app.access",
        "message": "request",
        "method": "GET",
        "path": "/api/v1/events",
        "query": "actor=russia&year=2021",
        "status": 200,
        "duration_ms": 0,
        "request_id": "first-one",
    }
    assert [line["status"] for line in logged] == [200, 200, 404]
    assert all(line["duration_ms"] >= 0 for line in logged)


def test_access_lines_wait_for_a_batch_but_never_pass_another_record() -> None:
    stream = io.StringIO()
    handler = BatchingHandler(stream, delay=3600)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.batching")
    access = logging.getLogger("test.batching.access")
    handler.batched = access.name
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        access.info("request", extra={"n": 1})
        access.info("request", extra={"n": 2})
        assert stream.getvalue() == ""  # batched
        logger.warning("something happened")
        written = [orjson.loads(line) for line in stream.getvalue().splitlines()]
        assert [(w["logger"], w.get("n")) for w in written] == [
            (access.name, 1),
            (access.name, 2),
            (logger.name, None),
        ]
    finally:
        logger.removeHandler(handler)


def test_a_batch_is_written_soon_even_when_no_more_requests_come() -> None:
    stream = io.StringIO()
    handler = BatchingHandler(stream, delay=0.05)
    handler.add('{"message": "request"}')
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream.getvalue() == '{"message": "request"}\n'


def test_a_closed_stream_loses_its_lines_but_fails_nothing() -> None:
    closed = io.StringIO()
    broken = BatchingHandler(closed, delay=0.05)
    closed.close()
    broken.add("lost")
    broken.flush()  # no exception, and the flushing thread goes on for the others
    broken.flush()  # nothing waiting: flushing the closed stream itself fails nothing either
    time.sleep(0.3)
    test_a_batch_is_written_soon_even_when_no_more_requests_come()


def test_a_batch_is_written_once_it_is_large() -> None:
    stream = io.StringIO()
    handler = BatchingHandler(stream, delay=3600, size=100)
    handler.add("x" * 60)
    assert stream.getvalue() == ""
    handler.add("y" * 60)
    assert stream.getvalue() == "x" * 60 + "\n" + "y" * 60 + "\n"


def test_access_lines_go_through_logging_when_it_is_set_up_otherwise() -> None:
    """A handler of its own on the access logger (or a filter) gets records, as usual."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    access_log.addHandler(keep)
    try:
        log_request({"method": "GET", "path": "/x", "status": 200})
    finally:
        access_log.removeHandler(keep)
    (record,) = seen
    assert (record.getMessage(), record.path, record.status) == ("request", "/x", 200)  # type: ignore[attr-defined]
