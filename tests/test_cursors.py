"""Forged cursors: no public signing key, and a correctly signed cursor of the wrong shape is
a 422 like any other bad cursor, never a 500 (issue 16, defect 2)."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import Settings
from app.core.meta import AppSecret
from app.core.pagination import encode_cursor, query_fingerprint
from app.main import create_app
from tests.conftest import Database
from tests.helpers import PROBLEM
from tests.test_properties import _sign

LISTS = [
    "/api/v1/events",
    "/api/v1/actors",
    "/api/v1/programs",
    "/api/v1/sources",
    "/api/v1/changes",
    "/api/v1/events/iss-launch/history",
    "/api/v1/timeline",
]


def stored_key(client: TestClient) -> str:
    with Session(client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        row = session.get(AppSecret, "cursor")
        assert row is not None
        return row.value


def forge(client: TestClient, keys: Any, params: dict[str, str]) -> str:
    """A cursor signed with the service's real key, as someone who knew it could make."""
    fingerprint = query_fingerprint(params.items())
    payload = json.dumps({"k": keys, "f": fingerprint}).encode()
    return _sign(payload, stored_key(client))


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "keys",
    [
        "not-a-list",
        {"k": 1},
        [],
        [None],
        [True],
        [2**70],
        [-(2**70)],
        [1.5, "x", 3, "y", 5],
        [["nested"]],
        ["9999-99-99", "x"],
    ],
)
def test_a_signed_cursor_of_the_wrong_shape_is_422(
    client: TestClient, path: str, keys: Any
) -> None:
    """Regression: AttributeError, int() and PostgreSQL's DataError answered 500."""
    params = {"limit": "2"}
    response = client.get(path, params={**params, "cursor": forge(client, keys, params)})
    assert response.status_code == 422, (keys, response.text[:300])
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("invalid-cursor")


@pytest.mark.parametrize("path", ["/api/v1/changes", "/api/v1/events/iss-launch/history"])
@pytest.mark.parametrize("keys", [["abc"], ["12"], [0], [-1], [2**31], [2**62], [2**70], [1.0]])
def test_a_revision_cursor_holds_a_32_bit_serial(client: TestClient, path: str, keys: Any) -> None:
    """Regression: `int()` on a string key, and 2^70 on PostgreSQL, answered 500."""
    params = {"limit": "2"}
    response = client.get(path, params={**params, "cursor": forge(client, keys, params)})
    assert response.status_code == 422, (keys, response.text[:300])
    assert response.headers["content-type"] == PROBLEM


def test_a_real_cursor_still_walks_every_list(client: TestClient) -> None:
    for path in LISTS:
        first = client.get(path, params={"limit": 1}).json()
        assert first["next_cursor"], path
        second = client.get(path, params={"limit": 1, "cursor": first["next_cursor"]})
        assert second.status_code == 200, (path, second.text)


def test_no_signing_key_is_public(client: TestClient, seeded_database: Database) -> None:
    """Regression: the default CURSOR_SECRET was in the source, so anyone could sign."""
    assert Settings(_env_file=None).cursor_secret == ""  # type: ignore[call-arg]
    old_default = "space-timeline-local-cursor-key"
    fingerprint = query_fingerprint([("limit", "2")])
    forged = encode_cursor(["iss"], fingerprint, old_default)
    refused = client.get("/api/v1/programs", params={"limit": 2, "cursor": forged})
    assert refused.status_code == 422
    assert len(stored_key(client)) >= 40
    # A second process (a replica) on the same database signs with the same key…
    replica = create_app(seeded_database.settings(auto_migrate=False, auto_seed=False))
    with TestClient(replica) as other:
        cursor = other.get("/api/v1/actors", params={"limit": 2}).json()["next_cursor"]
        assert stored_key(other) == stored_key(client)
    assert client.get("/api/v1/actors", params={"limit": 2, "cursor": cursor}).status_code == 200
    # …and a configured key wins over the stored one.
    configured = create_app(
        seeded_database.settings(auto_migrate=False, auto_seed=False, cursor_secret="k" * 40)
    )
    with TestClient(configured) as own:
        mine = own.get("/api/v1/actors", params={"limit": 2}).json()["next_cursor"]
        assert own.get("/api/v1/actors", params={"limit": 2, "cursor": mine}).status_code == 200
    assert client.get("/api/v1/actors", params={"limit": 2, "cursor": mine}).status_code == 422


def test_each_database_makes_its_own_key(empty_database: Database, client: TestClient) -> None:
    app = create_app(empty_database.settings(auto_migrate=False, auto_seed=False))
    with TestClient(app) as other:
        assert other.get("/api/v1/actors").status_code == 200
        assert stored_key(other) != stored_key(client)
