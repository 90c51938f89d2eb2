"""Facets, full-text search, "as reported on", corroboration and HTTP caching (issue 4)."""

import pytest
from fastapi.testclient import TestClient

from tests.helpers import ids
from tests.mini import ALL

FACET_QUERIES = [
    "",
    "status=planned",
    "actor=russia",
    "q=station",
    "role=signatory",
    "as_reported_on=2021-12-31",
    "min_sources=2",
    "kind=agreement&kind=mission",
]


def _and(query: str, facet: str, value: str) -> str:
    """The list query with the facet value added as an AND filter."""
    if facet == "actor" and "actor=" in query:
        return f"{query}&actor={value}&actor_match=all"
    return f"{query}&{facet}={value}" if query else f"{facet}={value}"


@pytest.mark.parametrize("query", FACET_QUERIES)
def test_each_facet_count_is_the_total_with_that_value_added(mini: TestClient, query: str) -> None:
    facets = mini.get(f"/api/v1/events/facets?{query}").json()
    assert facets["total"] == mini.get(f"/api/v1/events?{query}").json()["total"]
    checked = 0
    for name in ("actor", "program", "kind", "status"):
        for item in facets[name]:
            if name in ("kind", "status") and f"{name}=" in query:
                continue
            total = mini.get(f"/api/v1/events?{_and(query, name, item['value'])}").json()["total"]
            assert item["count"] == total, (name, item)
            checked += 1
    for item in facets["year"]:
        if "year=" in query:
            continue
        total = mini.get(f"/api/v1/events?{_and(query, 'year', str(item['year']))}").json()
        assert item["count"] == total["total"], item
        checked += 1
    assert checked == len(facets["actor"]) + len(facets["program"]) + len(facets["year"]) + (
        0 if "kind=" in query else len(facets["kind"])
    ) + (0 if "status=" in query else len(facets["status"]))


def test_facets_roll_sub_actors_up(mini: TestClient) -> None:
    actors = {a["value"]: a["count"] for a in mini.get("/api/v1/events/facets").json()["actor"]}
    assert (actors["russia"], actors["roscosmos"], actors["rogozin"]) == (6, 3, 1)
    years = {y["year"]: y["count"] for y in mini.get("/api/v1/events/facets").json()["year"]}
    assert (years[2024], years[2025], years[2030], years[2035], years[2039]) == (1, 1, 2, 1, 1)
    assert 2029 not in years


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"lunar station"', ["e2021"]),
        ('"station lunar"', []),
        ("memo*", ["e2021"]),
        ("orbit*", ["e2021m"]),
        ("memorandums", ["e2021"]),  # stemmed
        ("LUNAR", ["e2021"]),
        ("lunar memorandum", ["e2021"]),
        ("lunar launched", []),
        ("!!!", []),
        ('"', []),
        ("'; DROP TABLE event; --", []),
        ("leave", ["e2024"]),  # in a quote only
    ],
)
def test_full_text_search(mini: TestClient, q: str, expected: list[str]) -> None:
    assert ids(mini.get("/api/v1/events", params={"q": q})) == expected


def test_search_ranks_title_matches_first(mini: TestClient) -> None:
    assert ids(mini.get("/api/v1/events?q=station")) == ["e1998", "e2021"]


def test_as_reported_on_keeps_only_what_was_published(mini: TestClient) -> None:
    without_s2 = [e for e in ALL if e != "e2021m"]
    assert ids(mini.get("/api/v1/events?as_reported_on=2022-04-30")) == ALL
    assert ids(mini.get("/api/v1/events?as_reported_on=2022-04-29")) == without_s2
    # s1 is dated March 2021: it counts from the last day it can have appeared on.
    assert ids(mini.get("/api/v1/events?as_reported_on=2021-03-31")) == without_s2
    assert ids(mini.get("/api/v1/events?as_reported_on=2021-03-30")) == []


def test_as_reported_on_recomputes_disputes_and_counts(mini: TestClient) -> None:
    later = mini.get("/api/v1/events/e2024").json()
    earlier = mini.get("/api/v1/events/e2024?as_reported_on=2021-12-31").json()
    assert (later["disputed"], later["source_count"]) == (True, 2)
    assert (earlier["disputed"], earlier["source_count"]) == (False, 1)
    assert [c["source"]["id"] for c in earlier["citations"]] == ["s1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("as_reported_on=2021-12-31&source=s2", []),
        ("as_reported_on=2021-12-31&q=work", []),
        ("as_reported_on=2022-12-31&q=work", ["e2024"]),
        ("as_reported_on=2021-12-31&min_sources=2", []),
        ("min_sources=2", ["e2024"]),
        ("min_sources=1", ALL),
    ],
)
def test_every_filter_works_on_the_reported_view(
    mini: TestClient, query: str, expected: list[str]
) -> None:
    assert ids(mini.get(f"/api/v1/events?{query}")) == expected


def test_event_not_yet_reported_is_404(mini: TestClient) -> None:
    response = mini.get("/api/v1/events/e2021m?as_reported_on=2021-12-31")
    assert response.status_code == 404
    assert "2021-12-31" in response.json()["detail"]


def test_as_reported_on_the_curated_dataset(client: TestClient) -> None:
    exit_ = client.get("/api/v1/events/russia-iss-exit?as_reported_on=2021-12-31").json()
    assert "russia-and-china-to-hold-talks-on-lunar-base" not in {
        c["source"]["id"] for c in exit_["citations"]
    }
    assert exit_["source_count"] == 2
    early = ids(client.get("/api/v1/events?as_reported_on=2020-12-31&limit=200"))
    assert "ilrs-memorandum" not in early


def test_list_etag_and_conditional_get(mini: TestClient) -> None:
    first = mini.get("/api/v1/events?year=2021")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert first.headers["cache-control"] == "public, max-age=30"
    again = mini.get("/api/v1/events?year=2021", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    other = mini.get("/api/v1/events?year=2022")
    assert other.headers["etag"] != etag
    assert mini.get("/api/v1/events?year=2022", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/e2024",
        "/api/v1/actors/russia",
        "/api/v1/events/facets",
        "/api/v1/timeline",
        "/api/v1/events.csv",
        "/api/v1/events.ics",
        "/api/v1/actors",
        "/api/v1/programs",
        "/api/v1/sources",
        "/api/v1/sources/s1",
        "/api/v1/programs/iss",
    ],
)
def test_every_get_has_an_etag_that_answers_304(mini: TestClient, path: str) -> None:
    etag = mini.get(path).headers["etag"]
    response = mini.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert response.status_code == 304


def test_cors_allows_any_origin_for_reads_and_exposes_headers(mini: TestClient) -> None:
    response = mini.get("/api/v1/events?limit=1", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"link", "etag", "x-request-id"} <= exposed
    preflight = mini.options(
        "/api/v1/events",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
