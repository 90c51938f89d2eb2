"""The list's fast path answers exactly as the FastAPI route does, or lets the route answer."""

import asyncio
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

from app.core.db import LoopReads
from app.events import fastlist
from app.events.fastlist import FastListMiddleware
from app.main import create_app
from tests.conftest import Database, DatabaseFactory, Editing
from tests.factories import load
from tests.mini import MINI

ANSWERED = [
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
    "/api/v1/timeline",
    "/api/v1/timeline?actor=russia&year=2021&format=json",
    "/api/v1/timeline?limit=2&sort=-date",
    "/api/v1/timeline?q=station",
    "/api/v1/timeline?as_reported_on=2021-06-01",
]
LEFT_TO_THE_ROUTE = [
    "/api/v1/events?limit=0",
    "/api/v1/events?bogus=1",
    "/api/v1/events?limit=1&limit=2",
    "/api/v1/events?actor=nobody-at-all",
    "/api/v1/events?cursor=garbage",
    "/api/v1/events?year=abc",
    "/api/v1/timeline?format=timelinejs",
    "/api/v1/timeline?format=bogus",
    "/api/v1/timeline?actor=russia&format=json&format=json",
]


def _without_fast_path(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not FastListMiddleware]
    return app


@pytest.fixture
def clients(
    databases: DatabaseFactory, migrated_template: Database
) -> Iterator[tuple[TestClient, TestClient]]:
    database = databases.create(template=migrated_template)
    settings = database.settings(auto_migrate=False, auto_seed=False)
    fast = create_app(settings)
    load(fast.state.engine, MINI)
    with TestClient(fast) as a, TestClient(_without_fast_path(create_app(settings))) as b:
        yield a, b


def _count_answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The URLs the fast path answered, by the thread or on the event loop."""
    answered: dict[str, list[str]] = {"thread": [], "loop": [], "loop failed": []}
    answer, answer_on_loop = fastlist._answer, fastlist._answer_on_loop

    def in_thread(request: Any, params: Any, view: Any) -> Any:
        answered["thread"].append(str(request.url))
        return answer(request, params, view)

    async def on_loop(request: Any, params: Any, view: Any) -> Any:
        try:
            response = await answer_on_loop(request, params, view)
        except Exception:
            answered["loop failed"].append(str(request.url))
            raise
        if response is not None:
            answered["loop"].append(str(request.url))
        return response

    monkeypatch.setattr(fastlist, "_answer", in_thread)
    monkeypatch.setattr(fastlist, "_answer_on_loop", on_loop)
    return answered


def _seen(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
    return response.status_code, headers, response.content


def test_the_fast_path_answers_plain_lists_exactly_as_the_route(
    clients: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, route = clients
    answered = _count_answers(monkeypatch)
    for url in ANSWERED:
        mine = fast.get(url)
        assert mine.status_code == 200, (url, mine.text)
        assert _seen(mine) == _seen(route.get(url)), url
    assert len(answered["thread"]) + len(answered["loop"]) == len(ANSWERED)
    # The next page, through the cursor the fast path signed.
    for path in ("/api/v1/events", "/api/v1/timeline"):
        cursor = fast.get(f"{path}?limit=2").json()["next_cursor"]
        url = f"{path}?limit=2&cursor={cursor}"
        assert _seen(fast.get(url)) == _seen(route.get(url))


@pytest.mark.parametrize("url", LEFT_TO_THE_ROUTE)
def test_anything_else_is_answered_by_the_route(
    clients: tuple[TestClient, TestClient], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, route = clients
    answered = _count_answers(monkeypatch)
    mine = fast.get(url)
    assert _seen(mine) == _seen(route.get(url))
    # Invalid queries never reach the fast answer; valid ones that fail in it are re-asked.
    assert mine.status_code >= 400 or not (answered["thread"] or answered["loop"])


def test_conditional_requests_get_the_routes_304(clients: tuple[TestClient, TestClient]) -> None:
    fast, _ = clients
    url = "/api/v1/events?kind=agreement"
    etag = fast.get(url).headers["etag"]
    again = fast.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.headers["etag"]) == (304, etag)


def test_a_connection_the_server_dropped_costs_the_fast_path_nothing(
    clients: tuple[TestClient, TestClient], backend: str
) -> None:
    """On PostgreSQL the fast path's pool does not test connections before use (a round trip
    per request); one the server has closed fails in it, and the route answers instead."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    fast, route = clients
    # Each asked once only, so that none is answered from the response cache.
    first, *urls = [f"/api/v1/events?actor=russia&limit={n}" for n in range(1, 5)]
    expected = [_seen(route.get(url)) for url in urls]
    assert fast.get(first).status_code == 200  # the fast path's pool now holds a connection
    engine = fast.app.state.fast_read_engine.engine  # type: ignore[attr-defined]
    disconnects: list[bool] = []
    event.listen(engine, "handle_error", lambda context: disconnects.append(context.is_disconnect))
    with route.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    # The data version's own connection was dropped too: its read makes a new one.
    assert [_seen(fast.get(url)) for url in urls] == expected
    assert disconnects == [True]  # met once, then the pool made a new connection


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
    clients: tuple[TestClient, TestClient], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a list's filters and count are known for this data version, its pages (any
    size, order or cursor) are one query awaited on the loop, answered as the route does."""
    fast, route = clients
    answered = _count_answers(monkeypatch)
    asked, cursors = list(PREPARED), []
    for url in PREPARED:
        mine = fast.get(url)
        assert _seen(mine) == _seen(route.get(url)), url
        cursors.append(mine.json()["next_cursor"])
    # Walk the lists through their cursors, each page as the route gives it.
    for url, cursor in zip(PREPARED, cursors, strict=True):
        while cursor is not None:
            page = f"{url}&{urlencode({'cursor': cursor})}"
            mine = fast.get(page)
            asked.append(page)
            assert _seen(mine) == _seen(route.get(page)), page
            cursor = mine.json()["next_cursor"]
    asked = [f"http://testserver{url}" for url in asked]
    assert len(asked) > 10
    if backend == "postgresql":
        # Only the first of each list found its filters and count, in a thread; the
        # timeline's pages share them with the list of the same filters.
        assert answered["thread"] == [asked[0], asked[3]]
        assert answered["loop"] == [url for url in asked if url not in answered["thread"]]
    else:
        assert (answered["thread"], answered["loop"]) == (asked, [])
    assert answered["loop failed"] == []


def test_after_a_write_the_loop_reads_nothing_it_knew_before(
    editing: Editing, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the loop relies on (filters, count) is kept per data version: after a write the
    next page is found again in a thread, and the pages after it show the write too."""
    client = editing.client
    url = "/api/v1/events?actor=russia&year=2021"
    assert client.get(url).json()["total"] == 2  # filters and count found, in a thread
    answered = _count_answers(monkeypatch)

    def page(limit: int) -> tuple[int, list[tuple[str, str]]]:
        body = client.get(f"{url}&limit={limit}").json()
        return body["total"], [(e["id"], e["title"]) for e in body["items"]]

    assert page(1) == (2, [("e2021", "Event e2021")])
    renamed = client.patch("/api/v1/events/e2021", json={"title": "Renamed"}, headers=editing.auth)
    assert renamed.status_code == 200, renamed.text
    assert page(2) == (2, [("e2021", "Renamed"), ("e2021m", "Event e2021m")])
    assert page(3) == (2, [("e2021", "Renamed"), ("e2021m", "Event e2021m")])
    # A write that changes what the list matches changes its count as well.
    deleted = client.delete("/api/v1/events/e2021", headers=editing.auth)
    assert deleted.status_code == 204, deleted.text
    assert page(4) == (1, [("e2021m", "Event e2021m")])
    assert page(5) == (1, [("e2021m", "Event e2021m")])
    # The first page after each write was found in a thread; the loop answered the others.
    asked = [f"http://testserver{url}&limit={n}" for n in range(1, 6)]
    if backend == "postgresql":
        assert answered["thread"] == [asked[1], asked[3]]
        assert answered["loop"] == [asked[0], asked[2], asked[4]]
    else:
        assert (answered["thread"], answered["loop"]) == (asked, [])


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "from another list", "from the other order", "from another page size"],
)
def test_cursors_that_do_not_fit_are_refused_as_the_route_refuses_them(
    clients: tuple[TestClient, TestClient], cursor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the list's filters and count known (the loop would read its pages), a cursor
    that does not belong to the request is refused exactly as the route refuses it."""
    fast, route = clients
    url = "/api/v1/events?limit=1"
    assert fast.get(url).status_code == 200
    signed = {
        "from another list": "/api/v1/events?actor=russia&year=2021&limit=1",
        "from the other order": f"{url}&sort=-date",
        "from another page size": "/api/v1/events?limit=2",
    }
    if cursor in signed:
        cursor = fast.get(signed[cursor]).json()["next_cursor"]
        assert cursor is not None
    answered = _count_answers(monkeypatch)
    page = f"{url}&{urlencode({'cursor': cursor})}"
    mine = fast.get(page)
    assert mine.status_code == 422
    assert _seen(mine) == _seen(route.get(page))
    assert answered["loop"] == []  # what the fast path tried gave way to the route


def test_a_page_with_an_event_missing_its_document_is_assembled_instead(
    clients: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored document can be missing (written before documents existed); the loop then
    leaves the page to the thread, which assembles that event from its tables."""
    fast, route = clients
    url = "/api/v1/events?actor=russia&year=2021"
    assert fast.get(url).status_code == 200
    with fast.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("DELETE FROM event_document WHERE event_id = 'e2021'")
    answered = _count_answers(monkeypatch)
    page = f"{url}&limit=5"
    assert _seen(fast.get(page)) == _seen(route.get(page))
    assert answered["loop"] == []
    assert answered["thread"] == [f"http://testserver{page}"]


def test_a_connection_the_server_dropped_costs_the_loop_one_retry(
    clients: tuple[TestClient, TestClient], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection of the loop's that the server has closed fails once; the route
    answers that request, and the pool connects anew for the next."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    fast, route = clients
    first, *urls = [f"/api/v1/events?actor=russia&year=2021&limit={n}" for n in range(1, 6)]
    expected = [_seen(route.get(url)) for url in urls]
    answered = _count_answers(monkeypatch)
    assert fast.get(first).status_code == 200  # filters and count found, in a thread
    assert _seen(fast.get(urls[0])) == expected[0]  # the loop's pool now holds a connection
    with route.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    # The data version's own connection was dropped too: its read makes a new one.
    assert [_seen(fast.get(url)) for url in urls[1:]] == expected[1:]
    assert len(answered["loop failed"]) == 1
    assert answered["loop"][-1] == f"http://testserver{urls[-1]}"


def test_a_server_that_stops_answering_is_given_up_on_after_the_patience(
    databases: DatabaseFactory, migrated_template: Database, backend: str
) -> None:
    """The loop's connections wait for an answer no longer than the thread's do (statement
    timeout plus connect timeout), then are closed, and the pool makes new ones."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to stop")
    database = databases.create(template=migrated_template)
    settings = database.settings(db_statement_timeout_ms=1000, db_connect_timeout=1)
    reads = LoopReads(settings)

    async def scenario() -> tuple[float, list[tuple[Any, ...]] | None]:
        await reads.open()
        try:
            found = await reads.fetch(text("SELECT pg_backend_pid()"), {})
            assert found is not None
            pid = found[0][0]
            os.kill(pid, signal.SIGSTOP)
            started = time.monotonic()
            try:
                with pytest.raises(psycopg.OperationalError, match="did not answer within 2"):
                    await reads.fetch(text("SELECT 1"), {})
            finally:
                waited = time.monotonic() - started
                os.kill(pid, signal.SIGCONT)
            again = text("SELECT pg_backend_pid() <> :old")
            return waited, await reads.fetch(again, {"old": pid})
        finally:
            await reads.close()

    waited, after = asyncio.run(scenario())
    assert 1.9 < waited < 4
    assert after == [(True,)]  # a new connection, to a new server process


def test_postgresql_sessions_plan_for_a_database_held_in_memory(
    clients: tuple[TestClient, TestClient], backend: str
) -> None:
    """Index lookups priced as in memory, and no JIT compilation, which cost the facets more
    than the query itself: on the route's connections and on the loop's."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    fast, _ = clients
    with fast.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        settings = (
            conn.exec_driver_sql("SHOW jit").scalar(),
            conn.exec_driver_sql("SHOW random_page_cost").scalar(),
        )
    assert settings == ("off", "1.1")
    reads = fast.app.state.loop_reads  # type: ignore[attr-defined]
    shown = fast.portal.call(reads.fetch, text("SHOW jit"), {})  # type: ignore[union-attr]
    assert shown is not None
    assert [tuple(row) for row in shown] == [("off",)]
