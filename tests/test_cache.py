"""The response cache: keyed by the data version, so every write path invalidates it."""

import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, make_url, select
from sqlalchemy import event as sa_event
from sqlmodel import Session, col

from app.core.database import VersionReads
from app.core.db import libpq_dsn
from app.core.versioning import bump_data_version
from app.events import reader as events_reader
from app.events.assembly import event_documents
from app.events.models import Event, EventDocument, EventPublic
from tests.conftest import Editing
from tests.factories import actor, dataset, event, load
from tests.mini import MINI

Write = Callable[[Editing], Any]


def _post_event(e: Editing, **fields: Any) -> Any:
    """POST a planned 2030 mission of China's, with `fields` changed."""
    body = {
        "id": "e-new",
        "title": "New",
        "summary": "New.",
        "start_date": "2030-01-01",
        "date_precision": "year",
        "status": "planned",
        "kind": "mission",
        "actors": [{"id": "china", "role": "partner"}],
        "citations": [{"source_id": "s1", "quote": "New."}],
    } | fields
    return e.client.post("/api/v1/events", json=body, headers=e.auth)


WRITES: dict[str, Write] = {
    "create event": _post_event,
    "update event": lambda e: e.client.patch(
        "/api/v1/events/e2030", json={"title": "X"}, headers=e.auth
    ),
    "delete event": lambda e: e.client.delete("/api/v1/events/e2030", headers=e.auth),
    "add citation": lambda e: e.client.post(
        "/api/v1/events/e2030/citations", json={"source_id": "s2", "quote": "Q."}, headers=e.auth
    ),
    "update citation": lambda e: e.client.patch(
        f"/api/v1/events/e2030/citations/{_first_citation(e)}",
        json={"quote": "Changed."},
        headers=e.auth,
    ),
    "create actor": lambda e: e.client.post(
        "/api/v1/actors", json={"id": "jaxa", "name": "JAXA", "kind": "agency"}, headers=e.auth
    ),
    "rename actor": lambda e: e.client.patch(
        "/api/v1/actors/china", json={"name": "PRC"}, headers=e.auth
    ),
    "move actor": lambda e: e.client.patch(
        "/api/v1/actors/roscosmos", json={"parent_id": "china"}, headers=e.auth
    ),
    "rename program": lambda e: e.client.patch(
        "/api/v1/programs/ilrs", json={"name": "L"}, headers=e.auth
    ),
    "retitle source": lambda e: e.client.patch(
        "/api/v1/sources/s1", json={"title": "T"}, headers=e.auth
    ),
    "seed load": lambda e: load(
        e.client.app.state.database.engine,
        dataset(  # type: ignore[attr-defined]
            actors=[actor("russia"), actor("china", name="Zhongguo")],
            events=[event("e2030", 2030, [("china", "partner")], qualifier="by")],
        ),
    ),
}


def _first_citation(e: Editing) -> int:
    return int(e.client.get("/api/v1/events/e2030").json()["citations"][0]["id"])


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_path_invalidates_cached_reads(editing: Editing, write: str) -> None:
    client = editing.client
    urls = [
        "/api/v1/events?year=2030",
        "/api/v1/events/facets",
        "/api/v1/actors",
        "/api/v1/timeline?year=2030",
        "/api/v1/events.csv?year=2030",
    ]
    before = {url: client.get(url) for url in urls}
    for url, response in before.items():  # served again from the cache, unchanged
        again = client.get(url)
        assert (again.content, again.headers["etag"]) == (
            response.content,
            response.headers["etag"],
        )
    result = WRITES[write](editing)
    assert getattr(result, "status_code", 200) < 300
    after = {url: client.get(url) for url in urls}
    assert all(after[u].headers["etag"] != before[u].headers["etag"] for u in urls)
    assert any(after[u].content != before[u].content for u in urls)


def test_a_cached_response_answers_if_none_match(mini: TestClient) -> None:
    first = mini.get("/api/v1/events?kind=mission")
    mini.get("/api/v1/events?kind=mission")  # now from the cache
    cached = mini.get(
        "/api/v1/events?kind=mission", headers={"If-None-Match": first.headers["etag"]}
    )
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["x-request-id"]


def test_event_documents_are_exactly_the_documented_shape(mini: TestClient) -> None:
    """The read path skips validating its own output; this holds it to EventPublic."""
    engine = mini.app.state.database.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        events = session.execute(select(Event).order_by(col(Event.id))).scalars().all()
        documents = event_documents(session, events, date(2026, 1, 1))
    assert len(documents) == len(MINI.events)
    for document in documents:
        model = EventPublic.model_validate(document)
        assert orjson.loads(orjson.dumps(document)) == model.model_dump(mode="json")
        assert list(document) == list(EventPublic.model_fields)


def _without_request_id(response: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")


def test_a_cache_hit_answers_exactly_as_the_app_did(mini: TestClient) -> None:
    url = "/api/v1/events?actor=china"
    first = mini.get(url)
    hit = mini.get(url)
    assert hit.content == first.content
    assert _without_request_id(hit) == _without_request_id(first)
    assert hit.headers["x-content-type-options"] == "nosniff"
    # Each answer names its own request, once: nothing of the first request's id is kept.
    (first_id,) = first.headers.get_list("x-request-id")
    (hit_id,) = hit.headers.get_list("x-request-id")
    assert hit_id != first_id


def test_cached_answers_follow_the_origin_asking(mini: TestClient) -> None:
    """CORS headers depend on the Origin: a browser must not be answered from an entry
    filled for a request without one, nor the other way round."""
    url = "/api/v1/events?kind=agreement"
    plain = mini.get(url)
    assert "access-control-allow-origin" not in plain.headers
    origin = {"Origin": "https://newsroom.example"}
    browser = mini.get(url, headers=origin)
    assert browser.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in mini.get(url).headers
    revalidated = mini.get(url, headers={**origin, "If-None-Match": browser.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["access-control-allow-origin"] == "*"
    assert "ETag" in revalidated.headers["access-control-expose-headers"]


def test_head_is_answered_from_the_cache_without_a_body(mini: TestClient) -> None:
    url = "/api/v1/events?status=planned"
    head_before = mini.head(url)  # a miss: the app answers it
    got = mini.get(url)
    head = mini.head(url)
    assert (head.status_code, head.content, head_before.content) == (200, b"", b"")
    assert _without_request_id(head) == _without_request_id(got) == _without_request_id(head_before)


@pytest.mark.parametrize("write", list(WRITES))
def test_stored_documents_follow_every_write_path(editing: Editing, write: str) -> None:
    """The list reads each event's stored JSON; after any write it must still be exactly
    what the detail route builds from the tables."""
    client = editing.client
    result = WRITES[write](editing)
    assert getattr(result, "status_code", 200) < 300
    listed = client.get("/api/v1/events", params={"limit": 200}).json()["items"]
    assert listed, "the dataset has events"
    for item in listed:
        assert item == client.get(f"/api/v1/events/{item['id']}").json()


@pytest.mark.parametrize(
    "shape",
    [{"year": 2024}, {}, {"actor": "china", "year": 2024}],
    ids=["year (assembled query)", "every event (prepared)", "actor and year (prepared)"],
)
def test_stored_documents_say_whether_a_planned_date_has_passed_today(
    editing: Editing, monkeypatch: pytest.MonkeyPatch, shape: dict[str, Any]
) -> None:
    created = _post_event(editing, id="e-exit", start_date="2024-01-01", kind="withdrawal")
    assert created.status_code == 201, created.text

    def shown(limit: int) -> bool:
        page = editing.client.get("/api/v1/events", params={**shape, "limit": limit})
        (item,) = [i for i in page.json()["items"] if i["id"] == "e-exit"]
        return bool(item["planned_date_passed"])

    assert shown(50) is True
    monkeypatch.setattr(events_reader, "today", lambda: date(2024, 6, 1))
    assert shown(49) is False  # another URL: not the cached answer
    # Past its last day (2024-12-31, dated by year) it has passed; cancelled, it no longer says so.
    monkeypatch.setattr(events_reader, "today", lambda: date(2025, 1, 1))
    assert shown(48) is True
    changed = editing.client.patch(
        "/api/v1/events/e-exit", json={"status": "cancelled"}, headers=editing.auth
    )
    assert changed.status_code == 200, changed.text
    assert shown(48) is False


@pytest.mark.parametrize("write", list(WRITES))
def test_actor_year_pages_follow_every_write_path(editing: Editing, write: str) -> None:
    """`actor=` with `year=` reads the event_reach index; after any write it must list (and
    count facets for) what the same actor over the same dates (`from`/`to`, read another
    way) gives."""
    client = editing.client
    result = WRITES[write](editing)
    assert getattr(result, "status_code", 200) < 300
    actors = [a["id"] for a in client.get("/api/v1/actors", params={"limit": 200}).json()["items"]]

    def ids(**params: Any) -> tuple[list[str], int]:
        page = client.get("/api/v1/events", params={**params, "limit": 200})
        assert page.status_code == 200, page.text
        body = page.json()
        return [item["id"] for item in body["items"]], body["total"]

    def facets(**params: Any) -> Any:
        answer = client.get("/api/v1/events/facets", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    found = 0
    for actor_id in actors:
        for year in (2021, 2030):
            listed, total = ids(actor=actor_id, year=year)
            same_dates = {"actor": actor_id, "from": str(year), "to": str(year)}
            assert (listed, total) == ids(**same_dates)
            assert total == len(listed)
            assert facets(actor=actor_id, year=year) == facets(**same_dates)
            found += len(listed)
    # With another filter on the event, the count joins the events it reaches.
    kind, total = ids(actor="russia", year=2021, kind="agreement")
    assert total == len(kind)
    assert found, "some actor has events in those years"


# The lists read by statements built once (page_of_documents), each with a filter that
# lists the same events through the assembled query.
PREPARED = {
    "every event": ({}, {"from": "1900"}),
    "actor and year": ({"actor": "russia", "year": 2021}, {"actor": "russia", "from": "2021"}),
}


@pytest.mark.parametrize("sort", ["date", "-date"])
@pytest.mark.parametrize("shape", list(PREPARED))
def test_prepared_pages_walk_like_the_assembled_query(
    editing: Editing, shape: str, sort: str
) -> None:
    """Page by page, through their cursors, the prepared lists give what the assembled
    query gives for the same events."""
    prepared, assembled = PREPARED[shape]
    if "year" in prepared:
        assembled = {**assembled, "to": "2021"}

    def walk(params: dict[str, Any]) -> tuple[list[str], list[int]]:
        ids: list[str] = []
        totals: list[int] = []
        cursor = None
        while True:
            query = {**params, "sort": sort, "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = editing.client.get("/api/v1/events", params=query)
            assert page.status_code == 200, page.text
            body = page.json()
            ids += [item["id"] for item in body["items"]]
            totals.append(body["total"])
            cursor = body["next_cursor"]
            if cursor is None:
                return ids, totals

    ids, totals = walk(prepared)
    assert (ids, totals) == walk(assembled)
    assert len(ids) >= 2
    assert set(totals) == {len(ids)}
    assert len(set(ids)) == len(ids)  # no event twice


@pytest.mark.parametrize("params", [{}, {"actor": "russia", "year": 2021}])
def test_events_without_a_stored_document_are_still_listed(
    editing: Editing, params: dict[str, Any]
) -> None:
    """An event whose document is missing (stored before the table existed, say) is built
    from the tables, on the prepared lists as on the others."""
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        session.execute(delete(EventDocument).where(col(EventDocument.event_id) == "e2021"))
        bump_data_version(session)
        session.commit()
    listed = editing.client.get("/api/v1/events", params=params).json()["items"]
    assert "e2021" in [item["id"] for item in listed]
    for item in listed:
        assert item == editing.client.get(f"/api/v1/events/{item['id']}").json()


UNREACHABLE_READS = [
    "/api/v1/events?limit=2",
    "/api/v1/events/facets",
    "/api/v1/events/e2030",
    "/api/v1/actors",
]


def test_a_read_whose_data_version_could_not_be_read_is_a_503_at_once(
    editing: Editing, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database did not answer the version's read: the request is a 503 right away, as
    the route's own read would have answered after waiting as long again."""
    failure: Exception = (
        sqlite3.OperationalError("unable to open database file")
        if backend == "sqlite"
        else psycopg.OperationalError("connection timeout expired")
    )
    monkeypatch.setattr(VersionReads, "read", _araise(failure))
    engine = editing.client.app.state.database.engine  # type: ignore[attr-defined]
    checkouts: list[object] = []
    sa_event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    for url in UNREACHABLE_READS:
        response = editing.client.get(url)
        assert response.status_code == 503, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"]
        assert response.json()["type"].endswith("database-unavailable")
    assert checkouts == []  # not one connection asked for

    monkeypatch.undo()  # the database answers again: so does every read
    assert [editing.client.get(url).status_code for url in UNREACHABLE_READS] == [200] * 4


def test_a_version_read_failing_for_another_reason_leaves_the_read_to_the_app(
    editing: Editing, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a database that does not answer is a 503 at once; any other failure of the
    version's read (here a programming error) is no reason to refuse a read that works."""
    failure = (
        sqlite3.ProgrammingError("bug") if backend == "sqlite" else psycopg.ProgrammingError("bug")
    )
    monkeypatch.setattr(VersionReads, "read", _araise(failure))
    assert [editing.client.get(url).status_code for url in UNREACHABLE_READS] == [200] * 4


def test_a_version_connection_the_server_dropped_is_replaced_within_the_request(
    editing: Editing, backend: str
) -> None:
    """After a PostgreSQL restart the kept connection of the version's reads is dead: the read
    is made again on a new one, and the request answered, not refused."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    url = "/api/v1/events?actor=russia"
    assert editing.client.get(url).status_code == 200  # the version's connection is open
    with psycopg.connect(libpq_dsn(make_url(editing.database.url)), autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert dropped is not None
    assert dropped[0] >= 1
    for path in UNREACHABLE_READS:
        response = editing.client.get(path)
        assert response.status_code == 200, (path, response.text)


def _araise(failure: Exception) -> Callable[..., Any]:
    async def fail(*_: Any) -> Any:
        raise failure

    return fail
