"""Hostile input: every malformed, oversized or malicious request gets a clean 4xx problem, or is
stored verbatim and given back safely, never a 500; and the exports defuse what they carry."""

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.actors.models import Actor
from app.events.models import Citation, Event
from app.sources.models import Source
from tests.conftest import Editing
from tests.helpers import PROBLEM

INJECTIONS = [
    "'; DROP TABLE event; --",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    'line one\r\nline two, "quoted"',
    "BEGIN:VEVENT\r\nSUMMARY:forged",
]


def problem(response: Any, *statuses: int) -> dict[str, Any]:
    """The response is one of `statuses`, as a problem document."""
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def rows(editing: Editing, model: type[Any]) -> int:
    with Session(editing.client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def counts(editing: Editing) -> tuple[int, ...]:
    return tuple(rows(editing, m) for m in (Event, Citation, Actor, Source))


def post(editing: Editing, path: str, content: bytes, **headers: str) -> Any:
    return editing.client.post(
        path,
        content=content,
        headers={**editing.auth, "Content-Type": "application/json", **headers},
    )


def test_oversized_bodies_are_413_declared_or_streamed(editing: Editing) -> None:
    before = counts(editing)
    big = b'{"title": "' + b"x" * 2_000_000 + b'"}'
    problem(post(editing, "/api/v1/events", big), 413)

    def chunks() -> Any:  # no Content-Length: the limit is counted while reading
        for _ in range(40):
            yield b"x" * 65_536

    streamed = editing.client.post(
        "/api/v1/events",
        content=chunks(),
        headers={**editing.auth, "Content-Type": "application/json"},
    )
    problem(streamed, 413)
    assert counts(editing) == before


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b"\xff\xfe\xfd",
        b'{"title": "\xc3\x28"}',
        b"",
        b"null",
        b'{"title": 1e999999}',
        b'{"actors": [' + b'{"id": "russia", "role": "partner"},' * 5000 + b"]}",
    ],
    ids=[
        "deep-array",
        "deep-object",
        "not-utf8",
        "bad-utf8-in-string",
        "empty",
        "null",
        "huge-number",
        "many-items",
    ],
)
def test_malformed_bodies_are_clean_4xx(editing: Editing, body: bytes) -> None:
    before = counts(editing)
    for path in ("/api/v1/events", "/api/v1/actors", "/api/v1/events/e2030/citations"):
        problem(post(editing, path, body), 400, 413, 422)
    problem(
        editing.client.patch(
            "/api/v1/events/e2030",
            content=body,
            headers={**editing.auth, "Content-Type": "application/json"},
        ),
        400,
        413,
        422,
    )
    assert counts(editing) == before


def test_a_body_that_is_not_json_is_refused(editing: Editing) -> None:
    response = post(editing, "/api/v1/actors", b"id=x&name=y", **{"Content-Type": "text/plain"})
    problem(response, 415, 422)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?actor=%00",
        "/api/v1/events?q=a%00b",
        "/api/v1/events?source=%00&year=2021",
        "/api/v1/actors?q=%00",
        "/api/v1/events/iss%00launch",
        "/api/v1/sources/%00",
        "/api/v1/events.csv?program=%00",
    ],
)
def test_nul_in_a_url_is_422_on_every_backend(client: TestClient, url: str) -> None:
    body = problem(client.get(url), 422)
    assert "NUL" in body["detail"]


def test_nul_in_any_text_field_is_422_and_nothing_is_stored(editing: Editing) -> None:
    before = counts(editing)
    bodies = {
        "/api/v1/actors": {"id": "nul", "name": "a\x00b", "kind": "country"},
        "/api/v1/sources": {"title": "ok", "cites": ["CNN\x00"]},
        "/api/v1/events/e2030/citations": {"source_id": "s1", "quote": "q\x00"},
    }
    for path, body in bodies.items():
        response = editing.client.post(path, json=body, headers=editing.auth)
        assert "NUL" in problem(response, 422)["detail"]
    patched = editing.client.patch(
        "/api/v1/events/e2030", json={"summary": "\x00"}, headers=editing.auth
    )
    problem(patched, 422)
    assert counts(editing) == before


@pytest.mark.parametrize(
    "query",
    [
        "actor=%ff%fe",
        "q=%c3%28",
        "year=99999999999999999999999",
        "year=-1",
        "limit=1e3",
        "from=2021-02-31",
        "from=２０２１",
        "to=2021-13",
        "changed_since=1700000000",
        "changed_since=0.5",
        "as_reported_on=99999-01-01",
        "min_sources=NaN",
        "sort=date;DROP TABLE event",
        "cursor=" + "A" * 5000,
        "cursor=e30.e30",
        "actor=" + "x" * 20_000,
        "&".join(["year=2021"] * 2000),
        "unknown=1",
        "q=" + "%22" * 100,
        "q=*",
        "q=NEAR(a b)",
        "q=a OR b AND NOT c",
    ],
)
def test_hostile_query_strings_never_500(client: TestClient, query: str) -> None:
    for path in ("/api/v1/events", "/api/v1/events/facets", "/api/v1/events.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500, (path, query, response.text[:300])
        if response.status_code >= 400:
            problem(response, response.status_code)


def test_huge_citation_ids_are_a_clean_4xx(client: TestClient) -> None:
    """Regression: ids past 32 bits made both databases raise, answered 500."""
    for citation_id in ("2147483648", "9223372036854775808", "99999999999999999999"):
        response = client.get(f"/api/v1/events/iss-launch/citations/{citation_id}")
        problem(response, 404, 422)


def _create_hostile_records(editing: Editing, text: str, n: int) -> None:
    actor = editing.client.post(
        "/api/v1/actors",
        json={"id": f"hostile-{n}", "name": text, "kind": "organization", "description": text},
        headers=editing.auth,
    )
    assert actor.status_code == 201, actor.text
    source = editing.client.post(
        "/api/v1/sources",
        json={
            "id": f"hostile-source-{n}",
            "title": text,
            "publisher": text,
            "published_date_note": text,
            "cites": [text],
        },
        headers=editing.auth,
    )
    assert source.status_code == 201, source.text
    event = editing.client.post(
        "/api/v1/events",
        json={
            "id": f"hostile-event-{n}",
            "title": text,
            "summary": text,
            "start_date": "2023-01-01",
            "date_precision": "year",
            "status": "occurred",
            "kind": "statement",
            "location": text,
            "actors": [{"id": f"hostile-{n}", "role": "speaker"}],
            "citations": [{"source_id": f"hostile-source-{n}", "quote": text, "note": text}],
            "reason": text,
        },
        headers=editing.auth,
    )
    assert event.status_code == 201, event.text


def test_injection_strings_are_stored_verbatim_and_exported_safely(editing: Editing) -> None:
    before = counts(editing)
    for n, text in enumerate(INJECTIONS):
        _create_hostile_records(editing, text, n)
    # Nothing ran: every table holds exactly what was added.
    assert counts(editing) == (
        before[0] + len(INJECTIONS),
        before[1] + len(INJECTIONS),
        before[2] + len(INJECTIONS),
        before[3] + len(INJECTIONS),
    )
    api = editing.client
    for n, text in enumerate(INJECTIONS):
        stored = " ".join(text.split())  # titles and quotes are kept on one line
        event = api.get(f"/api/v1/events/hostile-event-{n}").json()
        assert event["summary"] == text.strip()
        assert event["citations"][0]["quote"] == stored
        assert api.get(f"/api/v1/actors/hostile-{n}").json()["name"] == text.strip()
        assert api.get(f"/api/v1/sources/hostile-source-{n}").json()["title"] == text.strip()
        found = api.get("/api/v1/events", params={"actor": text.strip(), "q": text[:200]})
        assert found.status_code in (200, 422), found.text

    exported = api.get("/api/v1/events.csv?year=2023")
    assert exported.status_code == 200
    table = list(csv.DictReader(io.StringIO(exported.text)))
    summaries = {row["id"]: row["summary"] for row in table}
    for n, text in enumerate(INJECTIONS):
        cell = summaries[f"hostile-event-{n}"]
        if text.strip().startswith(("=", "+", "-", "@")):
            assert cell == "'" + text.strip(), cell
        else:
            assert cell == text.strip(), cell

    timeline = api.get("/api/v1/timeline?format=timelinejs&year=2023").text
    assert "<script>" not in timeline
    assert "<img" not in timeline
    assert "&lt;script&gt;" in json.loads(timeline)["events"][0]["text"]["headline"] + timeline

    lines = api.get("/api/v1/events.ics?year=2023").text.split("\r\n")
    assert "SUMMARY:forged" not in lines
    assert lines.count("BEGIN:VEVENT") == len(json.loads(timeline)["events"])

    for line in api.get("/api/v1/events.ndjson?year=2023").text.splitlines():
        json.loads(line)
    json.loads(api.get("/api/v1/events.jsonld?year=2023").text)


SURROGATE = "\\ud800"  # as JSON writes it: a lone UTF-16 surrogate, which UTF-8 cannot carry


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/actors", f'{{"id":"x","name":"{SURROGATE}","kind":"company"}}'),
        ("POST", "/api/v1/actors", f'{{"id":"x{SURROGATE}","name":"X","kind":"company"}}'),
        ("POST", "/api/v1/programs", f'{{"id":"p","name":"P","{SURROGATE}":1}}'),
        ("PATCH", "/api/v1/events/e2030", f'{{"title":"{SURROGATE}"}}'),
        ("PATCH", "/api/v1/events/e2030", f'{{"reason":"a{SURROGATE}b"}}'),
        (
            "PATCH",
            "/api/v1/events/e2030",
            f'{{"actors":[{{"id":"{SURROGATE}","role":"partner"}}]}}',
        ),
        ("POST", "/api/v1/events/e2030/citations", f'{{"source_id":"s1","quote":"{SURROGATE}"}}'),
        ("PATCH", "/api/v1/sources/s1", f'{{"title":"{SURROGATE}"}}'),
    ],
    ids=["name", "actor-id", "key", "title", "reason", "actor-ref", "quote", "source-title"],
)
def test_a_lone_surrogate_is_a_422_not_a_500(
    editing: Editing, method: str, path: str, body: str
) -> None:
    """Regression: the 422 echoed the refused input, which could not be encoded: a 500."""
    before = counts(editing)
    response = editing.client.request(
        method,
        path,
        content=body.encode(),
        headers={**editing.auth, "Content-Type": "application/json"},
    )
    answer = problem(response, 422)
    assert answer["errors"], answer
    assert counts(editing) == before
    assert editing.client.get("/healthz").status_code == 200
