"""Filter semantics of /api/v1/events (SPEC §3) on a small dataset of the tests' own."""

import pytest
from fastapi.testclient import TestClient

from tests.helpers import PROBLEM, count_queries, ids
from tests.mini import ALL


def get(client: TestClient, query: str) -> list[str]:
    return ids(client.get(f"/api/v1/events?{query}"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("year=2024", ["e2024"]),
        ("year=2025", ["e2024"]),
        ("year=2023", []),
        ("year=2030", ["e2030", "e2030s"]),
        ("year=2029", []),
        ("year=2035", ["e2030s"]),
        ("year=1998&year=2024", ["e1998", "e2024"]),
        ("from=2021-06&to=2021-06", ["e2021m"]),
        ("to=2021", ["e1998", "e2020", "e2021", "e2021m"]),
        ("to=2021-03", ["e1998", "e2020", "e2021"]),
        ("from=2025-12-31", ["e2024", "e2030", "e2030s"]),
        ("from=2031", ["e2030s"]),
        ("actor=russia", ["e1998", "e2020", "e2021", "e2021m", "e2024", "e2030"]),
        ("actor=roscosmos", ["e2021", "e2021m", "e2024"]),
        ("actor=ROSCOSMOS", ["e2021", "e2021m", "e2024"]),
        ("actor=Russian%20space%20agency", ["e2021", "e2021m", "e2024"]),
        ("actor=u.s.", ["e1998", "e2020", "e2030s"]),
        ("actor=china&actor=usa", ["e1998", "e2020", "e2021", "e2030", "e2030s"]),
        ("actor=russia&actor=china&actor_match=all", ["e2021", "e2030"]),
        ("actor=roscosmos&actor=china&actor_match=all", ["e2021"]),
        ("actor=russia&role=declined", ["e2020"]),
        ("actor=russia&role=withdrawing", ["e2024"]),
        ("role=signatory", ["e2020", "e2021"]),
        ("actor=china&role=declined", []),
        ("program=ilrs", ["e2021", "e2030"]),
        ("program=isls", ["e2021", "e2030"]),
        ("program=iss&program=artemis", ["e1998", "e2020", "e2024"]),
        ("kind=withdrawal&kind=launch", ["e1998", "e2024"]),
        ("status=planned", ["e2024", "e2030", "e2030s"]),
        ("source=s2", ["e2021m", "e2024"]),
        ("source=001.txt", ["e1998", "e2020", "e2021", "e2024", "e2030", "e2030s"]),
        ("q=memorandum", ["e2021"]),
        ("q=ORBITAL", ["e2021m"]),
        ("q=nothing-like-this", []),
        ("q=100%25", []),
        ("sort=-date", list(reversed(ALL))),
        ("actor=russia&year=2021", ["e2021", "e2021m"]),
    ],
)
def test_filters_select_exactly_the_matching_events(
    mini: TestClient, query: str, expected: list[str]
) -> None:
    assert get(mini, query) == expected


def test_relevance_puts_title_matches_first(mini: TestClient) -> None:
    # "station" is in e1998's title; e2021's summary only.
    assert get(mini, "q=station") == ["e1998", "e2021"]
    assert get(mini, "q=station&sort=date") == ["e1998", "e2021"]
    assert get(mini, "q=memorandum%20on&sort=-date") == ["e2021"]


def test_total_counts_every_match_not_just_the_page(mini: TestClient) -> None:
    body = mini.get("/api/v1/events?actor=russia&limit=2").json()
    assert (body["total"], body["limit"], len(body["items"])) == (6, 2, 2)


@pytest.mark.parametrize("sort", ["date", "-date", "relevance"])
def test_cursor_walks_every_event_once(mini: TestClient, sort: str) -> None:
    url = f"/api/v1/events?limit=2&sort={sort}&q=e*"
    expected = get(mini, f"limit=200&sort={sort}&q=e*")
    seen: list[str] = []
    while url:
        response = mini.get(url)
        seen += ids(response)
        link = response.headers.get("link")
        cursor = response.json()["next_cursor"]
        assert (link is None) == (cursor is None)
        url = link[1 : link.index(">")] if link else ""
    assert seen == expected
    assert len(seen) == 7


def test_cursor_is_bound_to_its_query(mini: TestClient) -> None:
    cursor = mini.get("/api/v1/events?limit=2").json()["next_cursor"]
    for other in ["limit=3", "limit=2&actor=russia", "limit=2&sort=-date"]:
        response = mini.get(f"/api/v1/events?{other}&cursor={cursor}")
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert "another query" in response.json()["detail"]


@pytest.mark.parametrize("cursor", ["garbage", "a.b", "", "eyJrIjpbXX0.AAAA"])
def test_tampered_cursor_is_refused(mini: TestClient, cursor: str) -> None:
    response = mini.get(f"/api/v1/events?limit=2&cursor={cursor}")
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]


def test_cursor_with_altered_payload_is_refused(mini: TestClient) -> None:
    cursor = mini.get("/api/v1/events?limit=2").json()["next_cursor"]
    payload, signature = cursor.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    assert mini.get(f"/api/v1/events?limit=2&cursor={forged}").status_code == 422


def test_disputed_dates_are_attributed(mini: TestClient) -> None:
    body = mini.get("/api/v1/events/e2024").json()
    assert body["disputed"] is True
    assert body["date_label"] == "2024–2025"
    assert [(c["label"], c["source_ids"]) for c in body["date_claims"]] == [
        ("2024", ["s2"]),
        ("by 2025", ["s1"]),
    ]
    assert body["source_count"] == 2
    assert mini.get("/api/v1/events/e2030").json()["disputed"] is False


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("actor=rosmos", "actor"),
        ("program=artemiss", "program"),
        ("source=nope", "source"),
        ("kind=agrement", "kind"),
        ("status=plannned", "status"),
        ("role=signatry", "role"),
        ("year=1899", "year"),
        ("year=2201", "year"),
        ("year=abc", "year"),
        ("from=2021-13", "from"),
        ("to=21", "to"),
        ("from=2022&to=2021", "'from' (2022) is after 'to' (2021)"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("sort=size", "sort"),
        ("actor_match=some", "actor_match"),
        ("colour=red", "colour"),
    ],
)
def test_bad_filters_are_422_problems(mini: TestClient, query: str, parameter: str) -> None:
    response = mini.get(f"/api/v1/events?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422
    assert parameter in body["detail"]


def test_unknown_actor_suggests_the_closest(mini: TestClient) -> None:
    body = mini.get("/api/v1/events?actor=rosmos").json()
    assert body["detail"] == "unknown actor 'rosmos' — did you mean 'roscosmos'?"
    assert body["errors"][0]["suggestions"] == ["roscosmos"]


def test_unknown_kind_suggests_the_closest(mini: TestClient) -> None:
    error = mini.get("/api/v1/events?kind=agrement").json()["errors"][0]
    assert error["suggestions"][0] == "agreement"


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(mini: TestClient) -> None:
    engine = mini.app.state.database.engine  # type: ignore[attr-defined]
    counts = []
    for limit in (1, 7):
        with count_queries(engine) as statements:
            assert len(get(mini, f"actor=russia&limit={limit}")) == min(limit, 6)
        counts.append(len(statements))
    assert counts[0] == counts[1]
