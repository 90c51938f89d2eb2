"""The event reader: where each page is read, what it remembers per data version, and that
its answers are those of FastAPI's own parameter handling."""

import asyncio
import logging
import os
import signal
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app.core import routing
from app.core.database import Database as AppDatabase
from app.core.database import LoopPool
from app.core.routing import QueryModelRoute
from app.events import reader as reader_module
from app.events.reader import EventReader
from app.events.router import router as events_router
from app.main import create_app
from app.timeline.router import router as timeline_router
from tests.conftest import Database, DatabaseFactory, Editing
from tests.factories import load
from tests.mini import MINI

# Queries the route validates itself, over every filter and both views.
PARSED = [
    "/api/v1/events",
    "/api/v1/events?actor=russia&year=2021",
    "/api/v1/events?actor=Roscosmos",
    "/api/v1/events?actor=russia&actor=usa&actor_match=all",
    "/api/v1/events?limit=2",
    "/api/v1/events?sort=-date&kind=agreement&kind=withdrawal",
    "/api/v1/events?q=station",
    "/api/v1/events?as_reported_on=2021-06-01",
    "/api/v1/events?from=2020&to=2022-06&status=planned",
    "/api/v1/events?role=partner&min_sources=1",
    "/api/v1/events?actor=nobody-at-all",
    "/api/v1/events?cursor=garbage",
    "/api/v1/events/facets",
    "/api/v1/events/facets?actor=russia&year=2021",
    "/api/v1/events.csv?year=2021",
    "/api/v1/events.ndjson?actor=russia",
    "/api/v1/timeline",
    "/api/v1/timeline?actor=russia&year=2021&format=json",
    "/api/v1/timeline?limit=2&sort=-date",
    "/api/v1/timeline?q=station",
    "/api/v1/timeline?as_reported_on=2021-06-01",
    "/api/v1/timeline?format=timelinejs",
]
# Queries FastAPI judges, with its answer: values the model refuses and unknown parameters
# are 422; a repeated single-valued parameter keeps its last value.
HANDED_ON = [
    ("/api/v1/events?limit=0", 422),
    ("/api/v1/events?bogus=1", 422),
    ("/api/v1/events?limit=1&limit=2", 200),
    ("/api/v1/events?year=abc", 422),
    ("/api/v1/events/facets?year=1800", 422),
    ("/api/v1/events.ics?sort=-date", 422),
    ("/api/v1/timeline?format=bogus", 422),
    ("/api/v1/timeline?actor=russia&format=json&format=json", 200),
]


@pytest.fixture
def client(databases: DatabaseFactory, migrated_template: Database) -> Iterator[TestClient]:
    """The mini dataset, without the response cache: every request reaches the reader."""
    database = databases.create(template=migrated_template)
    settings = database.settings(auto_migrate=False, auto_seed=False, response_cache_entries=0)
    app = create_app(settings)
    load(app.state.database.engine, MINI)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _reader(client: TestClient) -> EventReader:
    app: FastAPI = client.app  # type: ignore[assignment]
    reader: EventReader = app.state.event_reader
    return reader


def _database(client: TestClient) -> AppDatabase:
    app: FastAPI = client.app  # type: ignore[assignment]
    database: AppDatabase = app.state.database
    return database


def _seen(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
    return response.status_code, headers, response.content


def _standard(client: TestClient, url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The answer when FastAPI validates the query itself, field by field."""
    with monkeypatch.context() as patched:
        patched.setattr(routing, "parse_query", lambda *_: None)
        return client.get(url)


def _route_counts(client: TestClient) -> dict[str, tuple[int, int]]:
    """How many requests each route validated itself, and how many it handed on."""
    routes = [*events_router.routes, *timeline_router.routes]
    return {
        route.path: (route.parsed, route.handed_on)
        for route in routes
        if isinstance(route, QueryModelRoute)
    }


@pytest.mark.parametrize("url", PARSED)
def test_a_plain_query_is_validated_by_the_route_as_fastapi_would(
    client: TestClient, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = url.partition("?")[0]
    before = _route_counts(client)[path]
    mine = client.get(url)
    assert _route_counts(client)[path] == (before[0] + 1, before[1])
    assert _seen(mine) == _seen(_standard(client, url, monkeypatch))


@pytest.mark.parametrize(("url", "status"), HANDED_ON)
def test_anything_else_is_handed_to_fastapi(client: TestClient, url: str, status: int) -> None:
    path = url.partition("?")[0]
    before = _route_counts(client)[path]
    answer = client.get(url)
    assert _route_counts(client)[path] == (before[0], before[1] + 1)
    assert answer.status_code == status, answer.text
    if status == 422:
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_conditional_request_is_answered_304(client: TestClient) -> None:
    url = "/api/v1/events?kind=agreement"
    etag = client.get(url).headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.headers["etag"], again.content) == (304, etag, b"")


def test_a_failing_read_is_a_logged_500_not_another_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the reader is an error the operator sees, with the request's id."""

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in the reader")

    monkeypatch.setattr(reader_module, "page_of_documents", broken)
    monkeypatch.setattr(reader_module, "page_of_events", broken)
    failed = _reader(client).served["thread failed"]
    answer = client.get("/api/v1/events", headers={"X-Request-ID": "reader-bug-1"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "reader-bug-1"
    assert _reader(client).served["thread failed"] == failed + 1
    (logged,) = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged.levelno == logging.ERROR
    assert logged.__dict__["request_id"] == "reader-bug-1"


# One country's year, and every event: the two lists read by one prepared statement, as
# lists and grouped by year.
PREPARED = [
    "/api/v1/events?actor=russia&year=2021",
    "/api/v1/events?actor=russia&year=2021&limit=1",
    "/api/v1/events?actor=russia&year=2021&limit=1&sort=-date",
    "/api/v1/events?limit=3",
    "/api/v1/events?limit=3&sort=-date",
    "/api/v1/timeline?actor=russia&year=2021&limit=1",
    "/api/v1/timeline?limit=3&sort=-date",
]


def test_on_postgresql_known_pages_are_read_on_the_event_loop(
    client: TestClient, backend: str
) -> None:
    """Once a list's filters and count are known for this data version, its pages (any
    size, order or cursor) are one query awaited on the loop; on SQLite all are read in a
    thread. Either way each page is what the general query gives."""
    reader = _reader(client)
    pages = 0
    for url in PREPARED:
        cursor: str | None = ""
        while cursor is not None:
            page = f"{url}&{urlencode({'cursor': cursor})}" if cursor else url
            answer = client.get(page)
            assert answer.status_code == 200, (page, answer.text)
            pages += 1
            cursor = answer.json()["next_cursor"]
    assert pages > 10
    if backend == "postgresql":
        # Only the first of each filter set was read in a thread: the timeline's pages
        # share what the list of the same filters found.
        assert reader.served == {"thread": 2, "loop": pages - 2}
    else:
        assert reader.served == {"thread": pages}


def test_after_a_write_nothing_known_before_is_used(editing: Editing, backend: str) -> None:
    """What the loop relies on (filters, count) is kept per data version: after a write the
    next page is found again in a thread, and the pages after it show the write too."""
    client = editing.client
    url = "/api/v1/events?actor=russia&year=2021"
    assert client.get(url).json()["total"] == 2  # filters and count found, in a thread
    reader = _reader(client)
    reader.served.clear()

    def page(limit: int) -> tuple[int, list[tuple[str, str]]]:
        body = client.get(f"{url}&limit={limit}").json()
        return body["total"], [(e["id"], e["title"]) for e in body["items"]]

    assert page(1) == (2, [("e2021", "Event e2021")])
    renamed = client.patch("/api/v1/events/e2021", json={"title": "Renamed"}, headers=editing.auth)
    assert renamed.status_code == 200, renamed.text
    assert page(2) == (2, [("e2021", "Renamed"), ("e2021m", "Event e2021m")])
    assert page(3) == (2, [("e2021", "Renamed"), ("e2021m", "Event e2021m")])
    deleted = client.delete("/api/v1/events/e2021", headers=editing.auth)
    assert deleted.status_code == 204, deleted.text
    assert page(4) == (1, [("e2021m", "Event e2021m")])
    assert page(5) == (1, [("e2021m", "Event e2021m")])
    # The first page after each write was found in a thread; the loop answered the others.
    expected = {"thread": 2, "loop": 3} if backend == "postgresql" else {"thread": 5}
    assert reader.served == expected


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "from another list", "from the other order", "from another page size"],
)
def test_cursors_that_do_not_fit_are_refused(client: TestClient, cursor: str) -> None:
    """With the list's filters and count known (the loop would read its pages), a cursor
    that does not belong to the request is refused, on either path, before any read."""
    url = "/api/v1/events?limit=1"
    assert client.get(url).status_code == 200
    signed = {
        "from another list": "/api/v1/events?actor=russia&year=2021&limit=1",
        "from the other order": f"{url}&sort=-date",
        "from another page size": "/api/v1/events?limit=2",
    }
    if cursor in signed:
        cursor = client.get(signed[cursor]).json()["next_cursor"]
        assert cursor is not None
    answer = client.get(f"{url}&{urlencode({'cursor': cursor})}")
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("invalid-cursor")


def test_a_page_with_an_event_missing_its_document_is_assembled_instead(
    client: TestClient,
) -> None:
    """A stored document can be missing (written before documents existed); the page is
    then read in a thread, which assembles that event from its tables."""
    url = "/api/v1/events?actor=russia&year=2021"
    expected = client.get(url).json()
    with _database(client).engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM event_document WHERE event_id = 'e2021'")
    reader = _reader(client)
    reader.served.clear()
    assert client.get(url).json() == expected
    assert reader.served == {"thread": 1}


def _drop_connections(database: AppDatabase) -> None:
    with database.engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_connection_the_server_dropped_costs_a_thread_read_one_retry(
    client: TestClient, backend: str
) -> None:
    """The reader's thread pool does not test connections before use (a round trip per
    read); one the server has closed fails once and the read is made again on a new one."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    urls = [f"/api/v1/events?actor=russia&limit={n}" for n in range(1, 5)]
    expected = [client.get(url).json() for url in urls]
    database = _database(client)
    disconnects: list[bool] = []
    event.listen(
        database.read_engine.engine,
        "handle_error",
        lambda context: disconnects.append(context.is_disconnect),
    )
    _drop_connections(database)
    # Each filter set is new to the reader: every page is read in a thread.
    assert [client.get(f"{url}&kind=agreement").status_code for url in urls] == [200] * 4
    assert [client.get(url).json() for url in urls] == expected
    assert disconnects == [True]  # met once, then the pool made a new connection


def test_a_connection_the_server_dropped_costs_a_loop_read_one_retry(
    client: TestClient, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    urls = [f"/api/v1/events?actor=russia&year=2021&limit={n}" for n in range(1, 6)]
    expected = [client.get(url).json() for url in urls]  # the loop's pool holds connections
    reader = _reader(client)
    reader.served.clear()
    _drop_connections(_database(client))
    assert [client.get(url).json() for url in urls] == expected
    assert reader.served == {"loop": 5}


def test_a_server_that_stops_answering_is_given_up_on_after_the_patience(
    databases: DatabaseFactory, migrated_template: Database, backend: str
) -> None:
    """The loop's connections wait for an answer no longer than the thread's do (statement
    timeout plus connect timeout), then are closed, and the pool makes new ones."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to stop")
    database = databases.create(template=migrated_template)
    settings = database.settings(db_statement_timeout_ms=1000, db_connect_timeout=1)
    reads = LoopPool(settings)

    async def scenario() -> tuple[float, list[tuple[Any, ...]] | None]:
        await reads.open()
        try:
            found = await reads.fetch(text("SELECT pg_backend_pid()"), {})
            assert found is not None
            pid = found[0][0]
            os.kill(pid, signal.SIGSTOP)
            started = time.monotonic()
            try:
                with pytest.raises(Exception, match="did not answer within 2") as failed:
                    await reads.fetch(text("SELECT 1"), {})
                assert isinstance(failed.value.__cause__, psycopg.OperationalError)
            finally:
                waited = time.monotonic() - started
                os.kill(pid, signal.SIGCONT)
            again = text("SELECT pg_backend_pid() <> :old")
            return waited, await reads.fetch(again, {"old": pid})
        finally:
            await reads.close()

    waited, after = asyncio.run(scenario())
    assert 1.9 < waited < 4  # given up on once, not tried again
    assert after == [(True,)]  # a new connection, to a new server process


def test_postgresql_sessions_plan_for_a_database_held_in_memory(
    client: TestClient, backend: str
) -> None:
    """Index lookups priced as in memory, and no JIT compilation, which cost the facets more
    than the query itself: on every pool's connections."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    database = _database(client)
    for engine in (database.engine, database.read_engine):
        with engine.connect() as conn:
            shown = (
                conn.exec_driver_sql("SHOW jit").scalar(),
                conn.exec_driver_sql("SHOW random_page_cost").scalar(),
            )
        assert shown == ("off", "1.1")
    on_loop = client.portal.call(database.fetch, text("SHOW jit"), {})  # type: ignore[union-attr]
    assert on_loop is not None
    assert [tuple(row) for row in on_loop] == [("off",)]
