"""Protocol answers the app controls: CORS lets any configured origin read but only trusted
origins write, and every refusal — a CORS preflight, a bad `Range` — is a problem document
(issue 16, defect 9)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import Database
from tests.helpers import PROBLEM

ELSEWHERE = "https://elsewhere.example"
NEWSROOM = "https://newsroom.example"


def preflight(client: TestClient, path: str, method: str, headers: str = "") -> object:
    asked = {"Origin": ELSEWHERE, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("DELETE", "authorization"),
        ("POST", "content-type"),
        ("PATCH", "authorization, content-type, if-match"),
        ("GET", "authorization"),
    ],
)
def test_writes_are_not_allowed_from_any_origin(
    mini: TestClient, method: str, headers: str
) -> None:
    """Regression: a preflight allowed DELETE with Authorization from any origin, where
    docs/deploy.md promised only GET, HEAD and OPTIONS."""
    response = preflight(mini, "/api/v1/events/e2030", method, headers)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert "access-control-allow-origin" not in response.headers  # type: ignore[attr-defined]
    assert "CORS_WRITE_ORIGINS" in response.json()["detail"]  # type: ignore[attr-defined]
    actual = mini.delete("/api/v1/events/e2030", headers={"Origin": ELSEWHERE})
    assert "access-control-allow-origin" not in actual.headers


def test_reads_stay_open_to_any_origin(mini: TestClient) -> None:
    allowed = preflight(mini, "/api/v1/events", "GET", "if-none-match")
    assert allowed.status_code == 200  # type: ignore[attr-defined]
    assert allowed.headers["access-control-allow-origin"] == "*"  # type: ignore[attr-defined]
    read = mini.get("/api/v1/events", headers={"Origin": ELSEWHERE})
    assert read.headers["access-control-allow-origin"] == "*"


@pytest.fixture
def trusted(empty_database: Database) -> Iterator[TestClient]:
    settings = empty_database.settings(
        auto_migrate=False, auto_seed=False, cors_write_origins=NEWSROOM
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_configured_origins_may_write(trusted: TestClient) -> None:
    asked = {
        "Origin": NEWSROOM,
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization, if-match",
    }
    allowed = trusted.options("/api/v1/events/e2030", headers=asked)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == NEWSROOM
    assert "DELETE" in allowed.headers["access-control-allow-methods"]
    refused = trusted.options("/api/v1/events/e2030", headers={**asked, "Origin": ELSEWHERE})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", ["/", "/static/app.css"])
@pytest.mark.parametrize(
    ("range_", "status"),
    [("bytes=99999999-", 416), ("bytes=5-2", 400), ("pages=1-2", 400), ("bytes=", 400)],
)
def test_a_bad_range_is_a_problem(mini: TestClient, path: str, range_: str, status: int) -> None:
    """Regression: Starlette answered these in plain text."""
    response = mini.get(path, headers={"Range": range_})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status
    good = mini.get(path, headers={"Range": "bytes=0-9"})
    assert (good.status_code, len(good.content)) == (206, 10)
