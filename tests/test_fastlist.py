"""The list's fast path answers exactly as the FastAPI route does, or lets the route answer."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.events import fastlist
from app.events.fastlist import FastListMiddleware
from app.main import create_app
from tests.conftest import Database, DatabaseFactory
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


def _seen(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
    return response.status_code, headers, response.content


def test_the_fast_path_answers_plain_lists_exactly_as_the_route(
    clients: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, route = clients
    answered: list[str] = []
    answer = fastlist._answer

    def counted(request: Any, params: Any) -> Any:
        answered.append(str(request.url))
        return answer(request, params)

    monkeypatch.setattr(fastlist, "_answer", counted)
    for url in ANSWERED:
        mine = fast.get(url)
        assert mine.status_code == 200, (url, mine.text)
        assert _seen(mine) == _seen(route.get(url)), url
    assert len(answered) == len(ANSWERED)
    # The next page, through the cursor the fast path signed.
    cursor = fast.get("/api/v1/events?limit=2").json()["next_cursor"]
    url = f"/api/v1/events?limit=2&cursor={cursor}"
    assert _seen(fast.get(url)) == _seen(route.get(url))


@pytest.mark.parametrize("url", LEFT_TO_THE_ROUTE)
def test_anything_else_is_answered_by_the_route(
    clients: tuple[TestClient, TestClient], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, route = clients
    answered: list[Any] = []
    answer = fastlist._answer
    monkeypatch.setattr(fastlist, "_answer", lambda *a: answered.append(a) or answer(*a))
    mine = fast.get(url)
    assert _seen(mine) == _seen(route.get(url))
    # Invalid queries never reach the fast answer; valid ones that fail in it are re-asked.
    assert mine.status_code >= 400 or not answered


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
