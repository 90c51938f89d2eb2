"""Editing through the API: tokens, writes, validation, history and the corrections feed."""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.auth.service import create_token, revoke_token
from app.events.models import Citation, Event
from app.history.models import Revision
from tests.conftest import Editing
from tests.helpers import PROBLEM

NEW_EVENT: dict[str, Any] = {
    "id": "e-new",
    "title": "Russia and China sign a new lunar agreement",
    "summary": "A test event.",
    "start_date": "2023-01-01",
    "date_precision": "year",
    "status": "occurred",
    "kind": "agreement",
    "actors": [
        {"id": "Russian space agency", "role": "signatory"},
        {"id": "cnsa", "role": "signatory"},
    ],
    "programs": ["ISLS"],
    "citations": [
        {
            "source_id": "s1",
            "quote": "They   signed it.",
            "claimed_date": "2023-01-01",
            "claimed_date_precision": "year",
        }
    ],
}


def count(editing: Editing, model: type[Any]) -> int:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "needs an editor token"),
        ({"Authorization": "Basic abc"}, "is not 'Bearer <token>'"),
        ({"Authorization": "Bearer"}, "is not 'Bearer <token>'"),
        ({"Authorization": "Bearer sct_not-a-real-token"}, "unknown or revoked"),
    ],
)
def test_writes_without_a_valid_token_are_401(
    editing: Editing, headers: dict[str, str], reason: str
) -> None:
    response = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reason in response.json()["detail"]
    assert count(editing, Event) == 7


def test_revoked_token_is_401_and_reader_token_is_403(editing: Editing) -> None:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        reader = create_token(session, "reader", ["reader"])
        revoke_token(session, "alice")
    revoked = editing.client.delete("/api/v1/events/e1998", headers=editing.auth)
    assert revoked.status_code == 401
    forbidden = editing.client.delete(
        "/api/v1/events/e1998", headers={"Authorization": f"Bearer {reader}"}
    )
    assert forbidden.status_code == 403
    assert count(editing, Event) == 7


def test_failed_auth_is_logged_without_the_token(
    editing: Editing, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sct_this-must-never-appear-in-logs"
    editing.client.post(
        "/api/v1/events", json=NEW_EVENT, headers={"Authorization": f"Bearer {secret}"}
    )
    assert "authentication failed" in caplog.text
    assert secret not in caplog.text


def test_create_an_event(editing: Editing) -> None:
    response = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=editing.auth)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/events/e-new"
    body = response.json()
    assert [(a["id"], a["role"]) for a in body["actors"]] == [
        ("roscosmos", "signatory"),
        ("cnsa", "signatory"),
    ]
    assert [p["id"] for p in body["programs"]] == ["ilrs"]
    assert body["citations"][0]["quote"] == "They signed it."
    assert editing.client.get("/api/v1/events/e-new").json() == body
    assert editing.client.get("/api/v1/events?q=lunar%20agreement").json()["items"][0]["id"] == (
        "e-new"
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"actors": [{"id": "rosmos", "role": "signatory"}]}, "did you mean 'roscosmos'"),
        ({"programs": ["nope"]}, "unknown program 'nope'"),
        ({"citations": [{"source_id": "s9", "quote": "x"}]}, "unknown source 's9'"),
        ({"citations": [{"source_id": "s1", "quote": " "}]}, "quote"),
        ({"citations": []}, "citations"),
        ({"start_date": "2023-03-01"}, "not the first day of its year"),
        ({"end_date": "2022-01-01"}, "end_date is before start_date"),
        ({"colour": "red"}, "colour"),
        ({"status": "maybe"}, "status"),
        ({"id": "Not A Slug"}, "id"),
    ],
)
def test_invalid_events_are_refused_and_change_nothing(
    editing: Editing, change: dict[str, Any], fragment: str
) -> None:
    response = editing.client.post(
        "/api/v1/events", json={**NEW_EVENT, **change}, headers=editing.auth
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert fragment in response.text
    assert (count(editing, Event), count(editing, Revision)) == (7, 0 + _seeded(editing))


def _seeded(editing: Editing) -> int:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        return session.execute(
            select(func.count()).select_from(Revision).where(Revision.author == "seed")
        ).scalar_one()


def test_duplicate_id_is_409(editing: Editing) -> None:
    response = editing.client.post(
        "/api/v1/events", json={**NEW_EVENT, "id": "e1998"}, headers=editing.auth
    )
    assert response.status_code == 409


def test_bodies_over_one_mebibyte_are_413(editing: Editing) -> None:
    huge = {**NEW_EVENT, "summary": "x" * (1024 * 1024)}
    response = editing.client.post("/api/v1/events", json=huge, headers=editing.auth)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM

    def chunks() -> Any:
        yield b'{"title": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}'

    streamed = editing.client.post(
        "/api/v1/events",
        content=chunks(),
        headers={**editing.auth, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert count(editing, Event) == 7


def test_patch_changes_only_what_is_given_and_if_match_guards_it(editing: Editing) -> None:
    client = editing.client
    etag = client.get("/api/v1/events/e2030").headers["etag"]
    changed = client.patch(
        "/api/v1/events/e2030",
        json={"location": "Lunar south pole"},
        headers={**editing.auth, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["location"], body["title"], body["date_label"]) == (
        "Lunar south pole",
        "Event e2030",
        "by 2030",
    )
    assert changed.headers["etag"] != etag
    stale = client.patch(
        "/api/v1/events/e2030",
        json={"title": "Lost update"},
        headers={**editing.auth, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == changed.headers["etag"]
    assert client.get("/api/v1/events/e2030").json()["title"] == "Event e2030"


def test_patch_revalidates_dates_and_references(editing: Editing) -> None:
    client = editing.client
    bad_date = client.patch(
        "/api/v1/events/e2030", json={"start_date": "2030-06-01"}, headers=editing.auth
    )
    assert bad_date.status_code == 422
    bad_actor = client.patch(
        "/api/v1/events/e2030",
        json={"actors": [{"id": "nobody", "role": "partner"}]},
        headers=editing.auth,
    )
    assert bad_actor.status_code == 422
    assert client.get("/api/v1/events/e2030").json()["date_label"] == "by 2030"


def test_delete_leaves_a_tombstone_in_the_history(editing: Editing) -> None:
    client = editing.client
    response = client.delete(
        "/api/v1/events/e2021m", headers={**editing.auth, "X-Change-Reason": "duplicate entry"}
    )
    assert (response.status_code, response.content) == (204, b"")
    assert client.get("/api/v1/events/e2021m").status_code == 404
    history = client.get("/api/v1/events/e2021m/history").json()["items"]
    tombstones = [
        (h["entity"], h["action"], h["author"], h["reason"])
        for h in history
        if h["action"] == "delete"
    ]
    assert tombstones == [
        ("citation", "delete", "alice", "duplicate entry"),
        ("event", "delete", "alice", "duplicate entry"),
    ]
    assert history[-1]["changes"]["title"] == {"before": "Event e2021m", "after": None}


def test_correcting_a_quote_is_recorded_with_before_and_after(editing: Editing) -> None:
    client = editing.client
    citation = client.get("/api/v1/events/e2024").json()["citations"][0]
    url = f"/api/v1/events/e2024/citations/{citation['id']}"
    etag = client.get(url).headers["etag"]
    response = client.patch(
        url,
        json={"quote": "Leave the ISS by 2025.", "reason": "typo"},
        headers={**editing.auth, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["quote"] == "Leave the ISS by 2025."
    last = client.get("/api/v1/events/e2024/history").json()["items"][-1]
    assert (last["entity"], last["entity_id"], last["action"], last["reason"]) == (
        "citation",
        str(citation["id"]),
        "update",
        "typo",
    )
    assert last["changes"] == {
        "quote": {"before": "Leave by 2025.", "after": "Leave the ISS by 2025."}
    }


def test_citations_can_be_added_and_removed_but_not_the_last(editing: Editing) -> None:
    client = editing.client
    added = client.post(
        "/api/v1/events/e2030/citations",
        json={
            "source_id": "s2",
            "quote": "By 2030 they will deploy it.",
            "claimed_date": "2030-01-01",
            "claimed_date_precision": "year",
            "claimed_date_qualifier": "by",
        },
        headers=editing.auth,
    )
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"/api/v1/events/e2030/citations/{added.json()['id']}"
    assert client.get("/api/v1/events/e2030").json()["source_count"] == 2
    first = client.get("/api/v1/events/e2030").json()["citations"][0]["id"]
    assert (
        client.delete(f"/api/v1/events/e2030/citations/{first}", headers=editing.auth).status_code
        == 204
    )
    last = client.delete(
        f"/api/v1/events/e2030/citations/{added.json()['id']}", headers=editing.auth
    )
    assert last.status_code == 409
    assert client.get("/api/v1/events/e2030").json()["source_count"] == 1


def test_deleting_a_referenced_actor_is_409_naming_the_events(editing: Editing) -> None:
    response = editing.client.delete("/api/v1/actors/rogozin", headers=editing.auth)
    assert response.status_code == 409
    assert response.json()["events"] == ["e2021m"]
    parent = editing.client.delete("/api/v1/actors/roscosmos", headers=editing.auth)
    assert parent.json()["children"] == ["rogozin"]


def test_actor_program_and_source_lifecycle(editing: Editing) -> None:
    client, auth = editing.client, editing.auth
    actor = client.post(
        "/api/v1/actors",
        json={"id": "esa", "name": "European Space Agency", "kind": "agency", "aliases": ["ESA"]},
        headers=auth,
    )
    assert (actor.status_code, actor.headers["location"]) == (201, "/api/v1/actors/esa")
    assert client.get("/api/v1/actors/ESA").json()["id"] == "esa"
    clash = client.post(
        "/api/v1/actors",
        json={"id": "esa2", "name": "Other", "kind": "agency", "aliases": ["ESA"]},
        headers=auth,
    )
    assert clash.status_code == 409
    cycle = client.patch("/api/v1/actors/russia", json={"parent_id": "rogozin"}, headers=auth)
    assert cycle.status_code == 422
    moved = client.patch("/api/v1/actors/esa", json={"parent_id": "usa"}, headers=auth)
    assert moved.json()["parent"]["id"] == "usa"
    assert client.get("/api/v1/actors/usa").json()["children"][0]["id"] == "esa"
    assert client.delete("/api/v1/actors/esa", headers=auth).status_code == 204

    program = client.post(
        "/api/v1/programs", json={"id": "gateway", "name": "Lunar Gateway"}, headers=auth
    )
    assert program.status_code == 201
    assert client.delete("/api/v1/programs/iss", headers=auth).json()["events"] == [
        "e1998",
        "e2024",
    ]
    assert client.delete("/api/v1/programs/gateway", headers=auth).status_code == 204

    source = client.post(
        "/api/v1/sources",
        json={
            "title": "A new article",
            "published_date": "2023-05-01",
            "published_date_precision": "month",
        },
        headers=auth,
    )
    assert source.status_code == 201, source.text
    assert source.json()["id"] == "a-new-article"
    bad = client.patch(
        "/api/v1/sources/a-new-article", json={"published_date": "2023-05-02"}, headers=auth
    )
    assert bad.status_code == 422
    assert client.delete("/api/v1/sources/s2", headers=auth).status_code == 409
    assert client.delete("/api/v1/sources/a-new-article", headers=auth).status_code == 204


def test_changes_feed_lists_every_write_with_tombstones(editing: Editing) -> None:
    client, auth = editing.client, editing.auth
    start = client.get("/api/v1/changes?limit=1").json()["total"]
    client.post("/api/v1/events", json=NEW_EVENT, headers=auth)
    client.delete("/api/v1/events/e-new", headers=auth)
    feed = client.get("/api/v1/changes?limit=200").json()
    assert feed["total"] == start + 4
    assert [(c["entity"], c["action"]) for c in feed["items"][-4:]] == [
        ("event", "create"),
        ("citation", "create"),
        ("citation", "delete"),
        ("event", "delete"),
    ]
    since = feed["items"][-4]["at"]
    recent = client.get("/api/v1/changes", params={"since": since, "entity": "event"}).json()
    assert [c["action"] for c in recent["items"]] == ["create", "delete"]


def test_changed_since_on_lists(editing: Editing) -> None:
    client = editing.client
    marker = client.get("/api/v1/changes?limit=200").json()["items"][-1]["at"]
    client.patch(
        "/api/v1/events/e1998", json={"title": "Station launched (corrected)"}, headers=editing.auth
    )
    changed = client.get("/api/v1/events", params={"changed_since": marker}).json()
    assert [e["id"] for e in changed["items"]] == ["e1998"]


def test_seed_writes_are_in_the_history_as_seed(editing: Editing) -> None:
    first = editing.client.get("/api/v1/events/e1998/history").json()["items"][0]
    assert (first["author"], first["action"], first["entity"]) == ("seed", "create", "event")


def test_writes_are_rate_limited_per_token(editing: Editing) -> None:
    editing.client.app.state.write_limiter.__init__(2)  # type: ignore[attr-defined, misc]
    codes = [
        editing.client.patch(
            "/api/v1/events/e1998", json={"title": f"T{i}"}, headers=editing.auth
        ).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = editing.client.patch(
        "/api/v1/events/e1998", json={"title": "T4"}, headers=editing.auth
    )
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == PROBLEM


def test_citations_ids_survive_in_the_database(editing: Editing) -> None:
    before = count(editing, Citation)
    editing.client.post("/api/v1/events", json=NEW_EVENT, headers=editing.auth)
    assert count(editing, Citation) == before + 1
