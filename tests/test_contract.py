"""Contract fuzzing: every operation of the app's own OpenAPI schema, with every default check.

Schemathesis generates requests from `/openapi.json`, valid and invalid ones, and checks each
answer against the same schema: no 5xx, documented status codes, content types, headers and
bodies, invalid data refused, valid data accepted, auth really enforced, unsupported methods
refused with a right `Allow`, and so on. Writes carry an editor token, so they get past 401 and
reach validation; each backend runs on a copy of the curated dataset of its own.

Budget: on SQLite, every operation gets its explicit examples, the coverage phase (every
parameter's boundaries and wrong types, deterministic) and EXAMPLES fuzzed cases; on
PostgreSQL the examples and the fuzzed cases. `CONTRACT_EXAMPLES=500` runs a deeper search.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.openapi.checks import RejectedPositiveData
from sqlmodel import Session

from app.auth.service import create_token
from app.core.config import Settings
from app.main import create_app
from tests.conftest import Database, DatabaseFactory

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "20"))
SEED = 20261121
SAME_FILTERS = [
    "getTimeline",
    "getEventFacets",
    "exportEventsCsv",
    "exportEventsNdjson",
    "exportEventsIcs",
    "exportEventsJsonld",
]

# Rules no JSON schema can state: names and references that must exist, cursors we signed,
# fields that must agree with each other, no NUL character. A schema-valid request may break
# one of them, and the app then answers 422 naming the rule; any other refusal of valid data
# is still a failure.
SEMANTIC_PROBLEMS = {
    "unknown-value",
    "invalid-cursor",
    "invalid-data",
    "invalid-characters",
}


def load_schema(*, coverage: bool) -> Any:
    """The schema of an app that never connects (the schema does not depend on the data)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "phases": {"coverage": {"enabled": coverage}},
            # These take the very filters of listEvents, parsed by the same code: its coverage
            # phase covers them, and they get their examples and fuzzed cases.
            "operations": [
                {"include-operation-id": SAME_FILTERS, "phases": {"coverage": {"enabled": False}}}
            ],
        }
    )
    app = create_app(
        Settings(_env_file=None, database_url="sqlite://", auto_migrate=False, auto_seed=False)  # type: ignore[call-arg]
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.hook(filter_failure)
    return schema


def filter_failure(
    _: schemathesis.HookContext, failure: Failure, case: schemathesis.Case, response: Response
) -> bool:
    """Keep every failure except valid data refused by a rule outside the schema."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return True
    problem = response.json()
    slug = problem.get("type", "").rsplit("/", 1)[-1]
    if slug in SEMANTIC_PROBLEMS:
        return False
    # Our own validators (from <= to, a date and its precision together…) raise value errors.
    errors = problem.get("errors") or [{}]
    return not (slug == "validation" and all(e.get("type") == "value_error" for e in errors))


@pytest.fixture(scope="session")
def contract_app(
    databases: DatabaseFactory, seeded_database: Database
) -> Iterator[tuple[FastAPI, str]]:
    """The app on a copy of the curated dataset, and an editor token with room to write.

    The checks send thousands of requests without the token on purpose, all from one
    address: the throttle of failed logins (tested in test_write_protocol.py) is lifted so
    that they keep getting the 401 the schema promises."""
    database = databases.create(template=seeded_database)
    app = create_app(
        database.settings(
            auto_migrate=False,
            auto_seed=False,
            write_rate_per_minute=100_000,
            auth_failures_per_minute=1_000_000,
        )
    )
    with Session(app.state.database.engine) as session:
        token = create_token(session, "fuzzer", ["editor"])
    yield app, token
    app.state.database.engine.dispose()


def check(case: schemathesis.Case, contract_app: tuple[FastAPI, str]) -> None:
    app, token = contract_app
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"})


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
with_coverage = load_schema(coverage=True)
without_coverage = load_schema(coverage=False)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@with_coverage.parametrize()
@FUZZ
def test_contract_on_sqlite(case: schemathesis.Case, contract_app: tuple[FastAPI, str]) -> None:
    check(case, contract_app)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@without_coverage.parametrize()
@FUZZ
def test_contract_on_postgresql(case: schemathesis.Case, contract_app: tuple[FastAPI, str]) -> None:
    check(case, contract_app)


# Regressions for what the fuzzing found.


def test_405_names_every_method_of_the_resource(client: TestClient) -> None:
    """Starlette's Allow named only the first route's methods (GET), not PATCH and DELETE."""
    for method, path, allowed in [
        ("OPTIONS", "/api/v1/events/ilrs-memorandum", "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/events", "GET, POST"),
        ("TRACE", "/api/v1/events/facets", "GET"),
        ("POST", "/api/v1/actors/nasa", "DELETE, GET, PATCH"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed, (method, path)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?changed_since=0.5",
        "/api/v1/events?changed_since=1700000000",
        "/api/v1/events?as_reported_on=0",
        "/api/v1/events/iss-launch?as_reported_on=20000",
        "/api/v1/changes?since=1e9",
    ],
)
def test_dates_are_iso_8601_not_timestamps(client: TestClient, url: str) -> None:
    """Pydantic read bare numbers as Unix timestamps; the schema promises ISO 8601."""
    response = client.get(url)
    assert response.status_code == 422
    assert "ISO 8601" in response.json()["detail"]


def test_every_get_has_an_etag_and_honours_if_none_match(client: TestClient) -> None:
    """The event history had no ETag."""
    for url in ["/api/v1/events/iss-launch/history", "/api/v1/changes", "/api/v1/actors/nasa"]:
        first = client.get(url)
        assert first.status_code == 200
        again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, url


def test_the_schema_says_which_update_fields_refuse_null(client: TestClient) -> None:
    """`"kind": null` was schema-valid but answered 422; the schema now leaves null out."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    event = schemas["EventUpdate"]["properties"]
    assert event["kind"] == {"$ref": "#/components/schemas/EventKind"}
    assert event["title"]["type"] == "string"
    assert {"type": "null"} in event["end_date"]["anyOf"]  # null clears it
    assert "anyOf" not in schemas["ActorUpdate"]["properties"]["name"]


def test_errors_are_documented_as_problem_json(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]
    for path, methods in operations.items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            if path != "/healthz":
                assert "Retry-After" in operation["responses"]["503"]["headers"]
