"""Names and order: every id, name and alias names one actor (one program), as a database
constraint that concurrent requests cannot get round; and ids sort byte by byte on both
databases, so lists and cursor walks agree (issue 16, defects 3 and 8)."""

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.actors.models import Actor
from app.auth.service import create_token
from app.core.names import NameKey
from app.main import create_app
from app.models import metadata
from app.programs.models import Program
from tests.conftest import PG_URL, Database, DatabaseFactory, Editing, _pg_admin_dsn
from tests.factories import load
from tests.helpers import PROBLEM
from tests.mini import MINI


def count(editing: Editing, model: type[Any]) -> int:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def conflict(response: Any, holder: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    assert f"'{holder}'" in response.json()["detail"]


def test_a_name_or_alias_names_one_actor(editing: Editing) -> None:
    api, auth = editing.client, editing.auth
    before = count(editing, Actor)
    taken = [
        {"id": "x1", "name": "RUSSIAN   Federation", "kind": "country"},  # russia's alias
        {"id": "x2", "name": "New", "kind": "country", "aliases": ["Roscosmos"]},  # a name
        {"id": "x3", "name": "New", "kind": "country", "aliases": ["cnsa"]},  # an id
        {"id": "x4", "name": "u.s.", "kind": "country"},  # usa's alias, other case
    ]
    holders = ["russia", "roscosmos", "cnsa", "usa"]
    for body, holder in zip(taken, holders, strict=True):
        conflict(api.post("/api/v1/actors", json=body, headers=auth), holder)
    conflict(api.patch("/api/v1/actors/china", json={"name": "NASA"}, headers=auth), "nasa")
    conflict(api.patch("/api/v1/actors/china", json={"aliases": ["US"]}, headers=auth), "usa")
    assert count(editing, Actor) == before
    # An actor keeps its own names when it is renamed, and frees the ones it drops.
    renamed = api.patch("/api/v1/actors/usa", json={"aliases": ["America"]}, headers=auth)
    assert renamed.status_code == 200, renamed.text
    freed = api.post(
        "/api/v1/actors", json={"id": "us-two", "name": "U.S.", "kind": "country"}, headers=auth
    )
    assert freed.status_code == 201, freed.text
    conflict(
        api.post(
            "/api/v1/actors", json={"id": "x5", "name": "america", "kind": "country"}, headers=auth
        ),
        "usa",
    )
    # Deleting an actor frees its names.
    assert api.delete("/api/v1/actors/us-two", headers=auth).status_code == 204
    again = api.post(
        "/api/v1/actors", json={"id": "us-three", "name": "U.S.", "kind": "country"}, headers=auth
    )
    assert again.status_code == 201, again.text


def test_a_name_or_alias_names_one_program(editing: Editing) -> None:
    api, auth = editing.client, editing.auth
    before = count(editing, Program)
    conflict(api.post("/api/v1/programs", json={"id": "p1", "name": "isls"}, headers=auth), "ilrs")
    conflict(
        api.post(
            "/api/v1/programs", json={"id": "p2", "name": "P", "aliases": ["ISS"]}, headers=auth
        ),
        "iss",
    )
    conflict(api.patch("/api/v1/programs/iss", json={"name": "Artemis"}, headers=auth), "artemis")
    assert count(editing, Program) == before
    # Actors and programs are separate scopes: a program may share an actor's name.
    shared = api.post("/api/v1/programs", json={"id": "nasa", "name": "NASA"}, headers=auth)
    assert shared.status_code == 201, shared.text


def test_the_database_itself_refuses_a_shared_name(editing: Editing) -> None:
    """Not a check in Python: a row written behind the API's back is refused too."""
    engine = editing.client.app.state.database.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        session.add(NameKey(scope="actor", key="russian federation", actor_id="china"))
        with pytest.raises(IntegrityError):
            session.commit()


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` in `count` threads released at the same moment; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("resource", ["actors", "programs"])
def test_concurrent_creates_with_one_name_make_one_record(editing: Editing, resource: str) -> None:
    """Regression: 20 concurrent POSTs with one name made 9 actors on PostgreSQL."""
    senders = 20
    app = editing.client.app

    def create(i: int) -> int:
        body: dict[str, Any] = {"id": f"racer-{i}", "name": "The Same Name"}
        if resource == "actors":
            body["kind"] = "organization"
        own = TestClient(app)  # a client of its own per sender (the app is already started)
        return own.post(f"/api/v1/{resource}", json=body, headers=editing.auth).status_code

    statuses = together(senders, create)
    assert sorted(statuses) == [201] + [409] * (senders - 1), statuses
    listed = editing.client.get(f"/api/v1/{resource}", params={"q": "same name"}).json()
    assert listed["total"] == 1


BYTEWISE_IDS = ["russian-station-first-module-work", "russia-says-iss-is-ageing", "russia2"]


def _event(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "title": event_id,
        "summary": "Same day as the others.",
        "start_date": "2019-05-05",
        "date_precision": "day",
        "status": "occurred",
        "kind": "statement",
        "actors": [{"id": "russia", "role": "speaker"}],
        "citations": [{"source_id": "s1", "quote": event_id}],
    }


def walk(client: TestClient, path: str, **params: Any) -> list[str]:
    """Every id of a list, one page of one item at a time."""
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get(
            path, params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


@pytest.fixture
def locale_sorted(
    backend: str, databases: DatabaseFactory, migrated_template: Database
) -> Iterator[Editing]:
    """`editing` on a database whose default collation, like en_US.utf8 in the official
    PostgreSQL image, ignores hyphens when sorting (ICU's `und-u-ka-shifted`: this server's
    own default is C.UTF-8, which would hide the defect)."""
    if backend == "sqlite":
        database = databases.create(template=migrated_template)
    else:
        name = f"timeline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
            conn.execute(
                f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu '
                "ICU_LOCALE 'und-u-ka-shifted' LOCALE 'C.UTF-8'"
            )
        databases.created.append(name)
        database = Database(
            "postgresql", make_url(PG_URL).set(database=name).render_as_string(False)
        )
        with psycopg.connect(_pg_admin_dsn().rsplit("/", 1)[0] + f"/{name}") as conn:
            hyphen_ignored = conn.execute(f"SELECT '{BYTEWISE_IDS[0]}' < '{BYTEWISE_IDS[1]}'")
            assert hyphen_ignored.fetchone() == (True,)  # the order the defect showed
    app = create_app(database.settings(auto_migrate=True, auto_seed=False))
    with TestClient(app) as client:
        load(app.state.database.engine, MINI)
        with Session(app.state.database.engine) as session:
            token = create_token(session, "alice", ["editor"])
        yield Editing(client, token, database)
    app.state.database.engine.dispose()


def test_ids_sort_byte_by_byte_on_both_databases(locale_sorted: Editing) -> None:
    """Regression: PostgreSQL's en_US collation put `russian-…` before `russia-…`."""
    api, auth = locale_sorted.client, locale_sorted.auth
    for event_id in BYTEWISE_IDS:
        assert api.post("/api/v1/events", json=_event(event_id), headers=auth).status_code == 201
        body = {"id": event_id, "name": f"Name {event_id}", "kind": "organization"}
        assert api.post("/api/v1/actors", json=body, headers=auth).status_code == 201
    expected = sorted(BYTEWISE_IDS)  # code points: the bytes of UTF-8
    assert expected == ["russia-says-iss-is-ageing", "russia2", "russian-station-first-module-work"]
    listed = api.get("/api/v1/events", params={"from": "2019-05-05", "to": "2019-05-05"})
    assert [e["id"] for e in listed.json()["items"]] == expected
    assert walk(api, "/api/v1/events", **{"from": "2019-05-05", "to": "2019-05-05"}) == expected
    newest_first = api.get("/api/v1/events", params={"year": 2019, "sort": "-date"})
    assert [e["id"] for e in newest_first.json()["items"]] == expected[::-1]
    actors = [a for a in walk(api, "/api/v1/actors", q="russia") if a in BYTEWISE_IDS]
    assert actors == expected


def test_every_bytewise_column_has_the_c_collation_on_postgresql(editing: Editing) -> None:
    """The models say which columns compare byte by byte; migration 0009 must agree (Alembic's
    comparison does not look at collations)."""
    engine = editing.client.app.state.database.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite compares text byte by byte (BINARY) everywhere")
    wanted = {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if getattr(column.type.dialect_impl(engine.dialect), "collation", None) == "C"
    }
    assert ("event", "id") in wanted
    assert ("name_key", "key") in wanted
    with engine.connect() as conn:
        found = set(
            conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND collation_name = 'C'"
                )
            ).all()
        )
        assert set(inspect(conn).get_table_names()) >= {t for t, _ in wanted}
    assert found == wanted
