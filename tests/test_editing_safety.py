"""Safe editing: idempotent retries, racing editors, failures mid-write, several workers."""

import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session

from app.core import editing as editing_module
from app.core.config import PROJECT_ROOT
from app.core.idempotency import IdempotencyKey
from app.events import writes
from app.events.models import Citation, Event
from app.history.models import Revision
from app.main import create_app
from tests.conftest import Editing
from tests.test_editing import NEW_EVENT


def rows(editing: Editing, model: type[Any]) -> int:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_retried_post_replays_the_first_answer(editing: Editing) -> None:
    headers = {**editing.auth, "Idempotency-Key": "add-citation-1"}
    body = {"source_id": "s2", "quote": "A second source."}
    first = editing.client.post("/api/v1/events/e2030/citations", json=body, headers=headers)
    again = editing.client.post("/api/v1/events/e2030/citations", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotency-replayed"] == "true"
    assert editing.client.get("/api/v1/events/e2030").json()["source_count"] == 2


def test_a_reused_key_with_another_body_is_422(editing: Editing) -> None:
    headers = {**editing.auth, "Idempotency-Key": "k"}
    editing.client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    other = editing.client.post(
        "/api/v1/events", json={**NEW_EVENT, "id": "e-other"}, headers=headers
    )
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert editing.client.get("/api/v1/events/e-other").status_code == 404


def test_keys_expire_after_a_day(editing: Editing) -> None:
    headers = {**editing.auth, "Idempotency-Key": "old"}
    body = {"source_id": "s2", "quote": "Again."}
    editing.client.post("/api/v1/events/e2030/citations", json=body, headers=headers)
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        stored = session.execute(select(IdempotencyKey)).scalar_one()
        session.execute(
            update(IdempotencyKey).values(created_at=stored.created_at - timedelta(hours=25))
        )
        session.commit()
    again = editing.client.post("/api/v1/events/e2030/citations", json=body, headers=headers)
    assert again.status_code == 201
    assert "idempotency-replayed" not in again.headers
    assert editing.client.get("/api/v1/events/e2030").json()["source_count"] == 2
    assert len(editing.client.get("/api/v1/events/e2030").json()["citations"]) == 3


def test_a_failure_mid_write_leaves_nothing_behind(
    editing: Editing, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (rows(editing, Event), rows(editing, Citation), rows(editing, Revision))
    version = editing.client.get("/api/v1/events").headers["etag"]

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    # The event, its links, its citation and two revisions are written before this fails.
    monkeypatch.setattr(writes.derived, "refresh", explode)
    client = TestClient(editing.client.app, raise_server_exceptions=False)
    response = client.post(
        "/api/v1/events", json=NEW_EVENT, headers={**editing.auth, "Idempotency-Key": "boom"}
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "disk on fire" not in response.text
    assert (rows(editing, Event), rows(editing, Citation), rows(editing, Revision)) == before
    assert rows(editing, IdempotencyKey) == 0
    assert editing.client.get("/api/v1/events").headers["etag"] == version


def race(editing: Editing, round_: int) -> dict[str, int]:
    """Two editors read the same version, then send it as If-Match at the same moment."""
    etag = editing.client.get("/api/v1/events/e2030").headers["etag"]
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def edit(name: str) -> None:
        barrier.wait()
        response = editing.client.patch(
            "/api/v1/events/e2030",
            json={"title": f"{name} {round_}"},
            headers={**editing.auth, "If-Match": etag},
        )
        codes[name] = response.status_code

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("ann", "ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return codes


def test_two_editors_racing_exactly_one_wins(editing: Editing) -> None:
    for round_ in range(5):
        codes = race(editing, round_)
        assert sorted(codes.values()) == [200, 412], codes
        winner = next(name for name, code in codes.items() if code == 200)
        assert editing.client.get("/api/v1/events/e2030").json()["title"] == f"{winner} {round_}"
    updates = [
        h
        for h in editing.client.get("/api/v1/events/e2030/history").json()["items"]
        if h["action"] == "update"
    ]
    assert len(updates) == 5


def test_a_second_worker_sees_a_write_at_once(editing: Editing) -> None:
    """Two app instances on one database, as two worker processes would be."""
    other = create_app(editing.database.settings(auto_migrate=False, auto_seed=False))
    with TestClient(other) as second:
        list_etag = second.get("/api/v1/events?year=2030").headers["etag"]
        detail_etag = second.get("/api/v1/events/e2030").headers["etag"]
        editing.client.patch(
            "/api/v1/events/e2030", json={"title": "Renamed"}, headers=editing.auth
        )
        assert (
            second.get("/api/v1/events?year=2030", headers={"If-None-Match": list_etag}).status_code
            == 200
        )
        assert (
            second.get("/api/v1/events/e2030", headers={"If-None-Match": detail_etag}).json()[
                "title"
            ]
            == "Renamed"
        )
        listed = second.get("/api/v1/events?year=2030").json()["items"]
        assert [e["title"] for e in listed if e["id"] == "e2030"] == ["Renamed"]
    other.state.database.engine.dispose()


def test_token_cli_creates_lists_and_revokes(editing: Editing) -> None:
    env = {"DATABASE_URL": editing.database.url, "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "token", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = cli("create", "--name", "bob")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("sct_")
    assert (
        editing.client.patch(
            "/api/v1/events/e1998",
            json={"title": "By Bob"},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    listing = cli("list").stdout
    assert "bob\t" in listing
    assert token not in listing
    assert cli("create", "--name", "bob").returncode == 2
    assert cli("revoke", "bob").returncode == 0
    assert (
        editing.client.patch(
            "/api/v1/events/e1998",
            json={"title": "Again"},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 401
    )
    assert cli("revoke", "bob").returncode == 1


def test_the_same_key_sent_at_once_creates_one_event(editing: Editing) -> None:
    """Regression: on PostgreSQL the losers of this race hit the primary key inside the write,
    outside the commit that handled conflicts, and got a 500 instead of the replay."""
    headers = {**editing.auth, "Idempotency-Key": "create-once"}
    barrier = threading.Barrier(4)
    codes: list[int] = []
    bodies: set[bytes] = set()

    def send() -> None:
        barrier.wait()
        response = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
        codes.append(response.status_code)
        bodies.add(response.content)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [201] * 4
    assert len(bodies) == 1
    assert rows(editing, Event) == 8


def test_a_key_committed_after_the_replay_check_is_replayed(
    editing: Editing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (seen on PostgreSQL in CI): a request looks its key up before the other
    request with the same key commits, then finds that request's event and says 409. It must
    answer as the first did, whichever check notices the other request."""
    headers = {**editing.auth, "Idempotency-Key": "late-check"}
    first = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    assert first.status_code == 201
    real_replay = editing_module.replay
    lookups: list[bool] = []

    def looked_up_too_early(*args: Any) -> Any:
        # The first lookup ran before the first request committed: it saw no key.
        lookups.append(True)
        return None if len(lookups) == 1 else real_replay(*args)

    monkeypatch.setattr(editing_module, "replay", looked_up_too_early)
    again = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=headers)
    assert len(lookups) == 2
    assert again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert rows(editing, Event) == 8

    # Without a key, the same clash is the 409 it always was, naming the event.
    monkeypatch.undo()
    clash = editing.client.post("/api/v1/events", json=NEW_EVENT, headers=editing.auth)
    assert clash.status_code == 409
    assert NEW_EVENT["id"] in clash.json()["detail"]
