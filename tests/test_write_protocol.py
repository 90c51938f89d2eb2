"""The protocol of writes: the token is checked before the body, failed authentication is
throttled per client address, and unknown query parameters are refused (issue 16)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.actors.models import Actor
from app.events.models import Citation, Event
from app.programs.models import Program
from app.sources.models import Source
from tests.conftest import Editing
from tests.helpers import PROBLEM

WRITES = [
    ("POST", "/api/v1/events"),
    ("PATCH", "/api/v1/events/e2030"),
    ("POST", "/api/v1/events/e2030/citations"),
    ("POST", "/api/v1/actors"),
    ("PATCH", "/api/v1/actors/russia"),
    ("POST", "/api/v1/programs"),
    ("PATCH", "/api/v1/programs/iss"),
    ("POST", "/api/v1/sources"),
    ("PATCH", "/api/v1/sources/s1"),
]
MALFORMED = [b"{", b"[1, 2", b"\xff\xfe", b'{"unknown": 1}', b'{"title": 5}']


def counts(editing: Editing) -> tuple[int, ...]:
    engine = editing.client.app.state.database.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Event, Citation, Actor, Program, Source)
        )


def send(client: TestClient, method: str, path: str, body: bytes, **headers: str) -> Any:
    return client.request(
        method, path, content=body, headers={"Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_malformed_body_without_a_valid_token_is_401(
    editing: Editing, method: str, path: str
) -> None:
    """Regression: the body was parsed first, so a stranger learned its rules (400/422)."""
    before = counts(editing)
    for body in MALFORMED:
        for headers in ({}, {"Authorization": "Bearer sct_not-a-token"}):
            response = send(editing.client, method, path, body, **headers)
            assert response.status_code == 401, (body, headers, response.text)
            assert response.headers["content-type"] == PROBLEM
        # With the token the same body reaches validation: the 401 was not a coincidence.
        response = send(editing.client, method, path, body, **editing.auth)
        assert response.status_code in (400, 422), (body, response.text)
    assert counts(editing) == before


def test_failed_authentication_is_throttled_per_address(editing: Editing) -> None:
    """Regression: 300 bad tokens in a row were all answered 401, as fast as they came."""
    allowance = editing.client.app.state.settings.auth_failures_per_minute  # type: ignore[attr-defined]
    bad = {"Authorization": "Bearer sct_guess"}
    statuses = [
        editing.client.patch("/api/v1/events/e2030", json={}, headers=bad).status_code
        for _ in range(allowance + 10)
    ]
    assert statuses == [401] * allowance + [429] * 10
    refused = editing.client.patch("/api/v1/events/e2030", json={}, headers=bad)
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["status"] == 429
    # A valid token from the same address is not slowed down…
    changed = editing.client.patch(
        "/api/v1/events/e2030", json={"summary": "Still editing."}, headers=editing.auth
    )
    assert changed.status_code == 200, changed.text
    # …and another address has its own allowance.
    elsewhere = TestClient(editing.client.app, client=("192.0.2.7", 40000))
    assert elsewhere.patch("/api/v1/events/e2030", json={}, headers=bad).status_code == 401
    assert editing.client.get("/api/v1/events/e2030").json()["summary"] == "Still editing."


@pytest.mark.parametrize(("method", "path"), [*WRITES, ("DELETE", "/api/v1/events/e2030")])
def test_unknown_query_parameters_on_writes_are_422(
    editing: Editing, method: str, path: str
) -> None:
    """Regression: writes ignored unknown query parameters (reads answer 422)."""
    before = counts(editing)
    response = send(editing.client, method, path + "?dry_run=1&force=yes", b"{}", **editing.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["loc"] for e in response.json()["errors"]] == [
        ["query", "dry_run"],
        ["query", "force"],
    ]
    assert "unknown parameter 'dry_run'" in response.json()["detail"]
    assert counts(editing) == before
    # Without the token the parameters are not even looked at.
    stranger = send(editing.client, method, path + "?dry_run=1", b"{}")
    assert stranger.status_code == 401


def test_an_idempotent_replay_carries_the_first_answers_etag(editing: Editing) -> None:
    """Regression: the replayed answer had no ETag, so If-Match could not follow it."""
    headers = {**editing.auth, "Idempotency-Key": "replay-etag"}
    body = {"id": "esa", "name": "European Space Agency", "kind": "agency"}
    first = editing.client.post("/api/v1/actors", json=body, headers=headers)
    again = editing.client.post("/api/v1/actors", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert again.content == first.content
    current = editing.client.get("/api/v1/actors/esa")
    assert current.headers["etag"] != ""
    patched = editing.client.patch(
        "/api/v1/actors/esa",
        json={"description": "Based in Paris."},
        headers={**editing.auth, "If-Match": again.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text


def test_a_change_reason_header_is_ascii_or_rfc_8187_never_mojibake(editing: Editing) -> None:
    """Regression: `X-Change-Reason: é—🚀` was read as Latin-1 and stored as `Ã©â…`."""
    api, path = editing.client, "/api/v1/events/e2030"
    before = api.get(path).json()
    raw = api.patch(
        path,
        json={"summary": "Changed."},
        headers={**editing.auth, "X-Change-Reason": "é—🚀".encode()},
    )
    assert raw.status_code == 400, raw.text
    assert raw.headers["content-type"] == PROBLEM
    assert "RFC 8187" in raw.json()["detail"]
    assert api.get(path).json() == before  # refused: nothing changed
    for bad in ("UTF-8''%C3%28", "UTF-8''a%00b"):
        refused = api.patch(
            path, json={"summary": "Changed."}, headers={**editing.auth, "X-Change-Reason": bad}
        )
        assert refused.status_code == 400, (bad, refused.text)
    encoded = "UTF-8''%C3%A9%E2%80%94%F0%9F%9A%80 fix"
    changed = api.patch(
        path, json={"summary": "Changed."}, headers={**editing.auth, "X-Change-Reason": encoded}
    )
    assert changed.status_code == 200, changed.text
    plain = api.patch(
        path, json={"summary": "Again."}, headers={**editing.auth, "X-Change-Reason": "100% ok"}
    )
    assert plain.status_code == 200, plain.text
    reasons = [r["reason"] for r in api.get(f"{path}/history").json()["items"]]
    assert reasons[-2:] == ["é—🚀 fix", "100% ok"]
