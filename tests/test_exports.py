"""Timeline view, exports and the CLI export: the same filters, every match, cache-aware."""

import csv
import io
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col

from app.core.config import PROJECT_ROOT
from app.core.versioning import bump_data_version
from app.events.models import EventDocument
from app.main import create_app
from tests.conftest import Database, Editing
from tests.factories import actor, dataset, event, load
from tests.helpers import ids
from tests.mini import ALL

TIMELINEJS_SLIDE_KEYS = {
    "start_date",
    "end_date",
    "text",
    "media",
    "group",
    "display_date",
    "background",
    "autolink",
    "unique_id",
}
TIMELINEJS_DATE_KEYS = {
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "display_date",
}


def test_timeline_groups_a_page_by_start_year(mini: TestClient) -> None:
    body = mini.get("/api/v1/timeline?limit=3").json()
    assert [(y["year"], [e["id"] for e in y["events"]]) for y in body["years"]] == [
        (1998, ["e1998"]),
        (2020, ["e2020"]),
        (2021, ["e2021"]),
    ]
    rest = mini.get(f"/api/v1/timeline?limit=3&cursor={body['next_cursor']}").json()
    assert [y["year"] for y in rest["years"]] == [2021, 2024, 2030]
    assert body["total"] == 7


def _walk(client: TestClient, url: str, key: str) -> list[dict[str, object]]:
    """Every page of `url`, two at a time, following the cursor."""
    pages, cursor = [], None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else "")).json()
        pages.append(page[key])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    "filters",
    [
        "",  # every event: the statement prepared for it
        "actor=russia&year=2021",  # one actor in one year: prepared too
        "actor=russia&sort=-date",  # stored documents, another statement
        "q=station",  # ranked by relevance, not by date
        "as_reported_on=2021-06-01",  # documents built for that day
    ],
)
def test_the_timeline_holds_the_lists_events_grouped_by_start_year(
    client: TestClient, filters: str
) -> None:
    listed = _walk(client, f"/api/v1/events?limit=2&{filters}", "items")
    grouped = _walk(client, f"/api/v1/timeline?limit=2&{filters}", "years")
    assert any(listed)
    for items, years in zip(listed, grouped, strict=True):
        assert [e for year in years for e in year["events"]] == items  # type: ignore[index]
        for year in years:
            assert year["events"]
            assert {str(e["start_date"])[:4] for e in year["events"]} == {str(year["year"])}
        assert all(a["year"] != b["year"] for a, b in pairwise(years))  # consecutive


def test_the_timeline_assembles_an_event_whose_document_is_missing(editing: Editing) -> None:
    client = editing.client
    before = client.get("/api/v1/timeline?actor=russia")
    with Session(client.app.state.database.engine) as session:  # type: ignore[attr-defined]
        session.execute(delete(EventDocument).where(col(EventDocument.event_id) == "e2021"))
        bump_data_version(session)
        session.commit()
    after = client.get("/api/v1/timeline?actor=russia")
    assert after.headers["etag"] != before.headers["etag"]  # not the cached answer
    assert "e2021" in str(before.json()["years"])
    assert after.json() == before.json()


def test_csv_export_has_one_row_per_matching_event(mini: TestClient) -> None:
    response = mini.get("/api/v1/events.csv?actor=russia")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["id"] for row in rows] == ids(mini.get("/api/v1/events?actor=russia"))
    e2024 = next(row for row in rows if row["id"] == "e2024")
    assert (e2024["actors"], e2024["sources"], e2024["disputed"]) == (
        "russia;roscosmos",
        "s1;s2",
        "true",
    )


def test_exports_are_not_paged(mini: TestClient) -> None:
    lines = mini.get("/api/v1/events.ndjson").content.splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == ALL


def test_ics_and_jsonld_exports(mini: TestClient) -> None:
    ics = mini.get("/api/v1/events.ics?year=2024").content
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"UID:e2024@space-timeline\r\n" in ics
    assert b"DTSTART;VALUE=DATE:20240101\r\nDTEND;VALUE=DATE:20260101\r\n" in ics
    graph = orjson.loads(mini.get("/api/v1/events.jsonld?status=planned").content)["@graph"]
    assert [node["identifier"] for node in graph] == ["e2024", "e2030", "e2030s"]
    assert {node["@type"] for node in graph} == {"Event"}


def test_exports_report_bad_filters_as_problems(mini: TestClient) -> None:
    response = mini.get("/api/v1/events.csv?actor=rosmos")
    assert (response.status_code, response.headers["content-type"]) == (
        422,
        "application/problem+json",
    )


def _check_timelinejs_date(value: dict[str, object]) -> None:
    assert set(value) <= TIMELINEJS_DATE_KEYS
    assert isinstance(value["year"], int)
    for key in ("month", "day"):
        assert key not in value or isinstance(value[key], int)


def test_timelinejs_of_the_whole_dataset_follows_the_documented_format(
    client: TestClient,
) -> None:
    document = client.get("/api/v1/timeline?format=timelinejs").json()
    total = client.get("/api/v1/events").json()["total"]
    assert set(document) <= {"events", "title", "eras", "scale"}
    assert len(document["events"]) == total
    for slide in document["events"]:
        assert set(slide) <= TIMELINEJS_SLIDE_KEYS
        _check_timelinejs_date(slide["start_date"])
        if "end_date" in slide:
            _check_timelinejs_date(slide["end_date"])
        assert set(slide["text"]) <= {"headline", "text"}
        assert "<script" not in slide["text"]["text"]
    slides = {s["unique_id"]: s for s in document["events"]}
    assert slides["ilrs-station"]["display_date"] == "by 2030"
    assert slides["ilrs-memorandum"]["start_date"] == {"year": 2021, "month": 3, "day": 9}


def test_the_list_etag_changes_when_and_only_when_data_changes(
    empty_database: Database,
) -> None:
    app = create_app(empty_database.settings(auto_migrate=False, auto_seed=False))
    base = dataset(
        actors=[actor("russia"), actor("china")],
        events=[event("e1", "2021-03-09", [("russia", "partner")])],
    )
    load(app.state.database.engine, base)
    with TestClient(app) as client:
        list_etag = client.get("/api/v1/events").headers["etag"]
        detail_etag = client.get("/api/v1/events/e1").headers["etag"]
        assert client.get("/api/v1/events").headers["etag"] == list_etag
        grown = dataset(
            actors=[actor("russia"), actor("china")],
            events=[
                event("e1", "2021-03-09", [("russia", "partner")]),
                event("e2", 2022, [("china", "partner")]),
            ],
        )
        load(app.state.database.engine, grown)
        assert client.get("/api/v1/events").headers["etag"] != list_etag
        # e1 itself did not change: its ETag stays, so an If-Match on it still holds.
        assert client.get("/api/v1/events/e1").headers["etag"] == detail_etag
        renamed = dataset(
            actors=[actor("russia", name="Russian Federation"), actor("china")],
            events=[
                event("e1", "2021-03-09", [("russia", "partner")]),
                event("e2", 2022, [("china", "partner")]),
            ],
        )
        load(app.state.database.engine, renamed)
        assert client.get("/api/v1/events/e1").headers["etag"] != detail_etag


def test_cli_export_writes_what_the_api_serves(
    seeded_database: Database, client: TestClient, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": seeded_database.url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "export",
            "--out",
            str(tmp_path),
            "--query",
            "actor=russia&year=2021",
            "--base-url",
            "http://testserver",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in ("csv", "ndjson", "ics", "jsonld"):
        served = client.get(f"/api/v1/events.{name}?actor=russia&year=2021").content
        assert (tmp_path / f"events.{name}").read_bytes() == served, name
    served = client.get("/api/v1/timeline?format=timelinejs&actor=russia&year=2021").content
    assert (tmp_path / "timeline.json").read_bytes() == served
