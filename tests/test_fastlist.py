"""The list's fast path answers exactly as the FastAPI route does, or lets the route answer."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

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
]
LEFT_TO_THE_ROUTE = [
    "/api/v1/events?limit=0",
    "/api/v1/events?bogus=1",
    "/api/v1/events?limit=1&limit=2",
    "/api/v1/events?actor=nobody-at-all",
    "/api/v1/events?cursor=garbage",
    "/api/v1/events?year=abc",
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

    def in_thread(request: Any, params: Any) -> Any:
        answered["thread"].append(str(request.url))
        return answer(request, params)

    async def on_loop(request: Any, params: Any) -> Any:
        try:
            response = await answer_on_loop(request, params)
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
    cursor = fast.get("/api/v1/events?limit=2").json()["next_cursor"]
    url = f"/api/v1/events?limit=2&cursor={cursor}"
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
    # The first goes to the route anyway: the data version's connection was dropped too.
    assert [_seen(fast.get(url)) for url in urls] == expected
    assert disconnects == [True]  # met once, then the pool made a new connection


# One country's year, and every event: the two lists read by one prepared statement.
PREPARED = [
    "/api/v1/events?actor=russia&year=2021",
    "/api/v1/events?actor=russia&year=2021&limit=1",
    "/api/v1/events?actor=russia&year=2021&limit=1&sort=-date",
    "/api/v1/events?limit=3",
    "/api/v1/events?limit=3&sort=-date",
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
        # Only the first of each list found its filters and count, in a thread.
        assert answered["thread"] == [asked[0], asked[3]]
        assert answered["loop"] == [url for url in asked if url not in answered["thread"]]
    else:
        assert (answered["thread"], answered["loop"]) == (asked, [])
    assert answered["loop failed"] == []


def test_after_a_write_the_loop_reads_nothing_it_knew_before(
    editing: Editing, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the loop relies on (filters, count) is kept per data version: after a write the
    next page is found again in a thread, and shows the write."""
    client = editing.client
    url = "/api/v1/events?actor=russia&year=2021"
    assert client.get(url).json()["total"] == 2  # filters and count found, in a thread
    answered = _count_answers(monkeypatch)
    first = client.get(f"{url}&limit=1").json()["items"][0]
    renamed = client.patch("/api/v1/events/e2021", json={"title": "Renamed"}, headers=editing.auth)
    assert renamed.status_code == 200, renamed.text
    after = client.get(f"{url}&limit=2").json()
    client.get(f"{url}&limit=3")
    assert (first["id"], first["title"]) == ("e2021", "Event e2021")
    assert (after["items"][0]["id"], after["items"][0]["title"]) == ("e2021", "Renamed")
    # The loop answered limit=1 and limit=3; limit=2, the first after the write, a thread.
    on_loop = [f"http://testserver{url}&limit={n}" for n in (1, 3)]
    assert answered["loop"] == (on_loop if backend == "postgresql" else [])
    assert answered["thread"][0 if backend == "postgresql" else 1].endswith("&limit=2")


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
    # The first goes to the route anyway: the data version's connection was dropped too.
    assert [_seen(fast.get(url)) for url in urls[1:]] == expected[1:]
    assert len(answered["loop failed"]) == 1
    assert answered["loop"][-1] == f"http://testserver{urls[-1]}"
