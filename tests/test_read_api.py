"""The read API on the curated dataset: the foundation's promises, checked end to end."""

import pytest
from fastapi.testclient import TestClient

from tests.helpers import PROBLEM, ids


def test_roscosmos_in_2021_includes_the_memorandum_with_citations(client: TestClient) -> None:
    body = client.get("/api/v1/events?actor=roscosmos&year=2021").json()
    memorandum = next(e for e in body["items"] if e["id"] == "ilrs-memorandum")
    assert memorandum["date_label"] == "9 March 2021"
    assert {c["source"]["id"] for c in memorandum["citations"]} == {
        "us-ditched-by-longtime-space-partner",
        "russia-and-china-agree-to-build-lunar-station",
        "russia-to-leave-iss-for-lunar-station-with-china",
    }
    assert {(a["id"], a["role"]) for a in memorandum["actors"]} >= {
        ("roscosmos", "signatory"),
        ("cnsa", "signatory"),
        ("russia", "partner"),
        ("china", "partner"),
    }


def test_russia_and_china_together(client: TestClient) -> None:
    found = ids(client.get("/api/v1/events?actor=russia&actor=china&actor_match=all&limit=200"))
    assert "ilrs-memorandum" in found
    assert "ilrs-station" in found
    assert "iss-launch" not in found


def test_the_iss_exit_is_disputed_and_attributed(client: TestClient) -> None:
    body = client.get("/api/v1/events?year=2025&limit=200").json()
    exit_ = next(e for e in body["items"] if e["id"] == "russia-iss-exit")
    assert exit_["disputed"] is True
    assert exit_["date_label"] == "2024–2025"
    claims = {c["label"]: c["source_ids"] for c in exit_["date_claims"]}
    assert claims["by 2025"] == ["russia-to-leave-iss-for-lunar-station-with-china"]
    assert claims["until 2024"] == ["russia-and-china-to-hold-talks-on-lunar-base"]
    assert claims["after 2024"] == ["russia-plans-to-leave-the-iss"]


def test_misspelt_actor_gets_a_suggestion(client: TestClient) -> None:
    response = client.get("/api/v1/events?actor=rosmos")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "unknown actor 'rosmos' — did you mean 'roscosmos'?"


@pytest.mark.parametrize("name", ["roscosmos", "Roscosmos", "RUSSIAN SPACE AGENCY"])
def test_actor_detail_by_any_name(client: TestClient, name: str) -> None:
    body = client.get(f"/api/v1/actors/{name}").json()
    assert body["id"] == "roscosmos"
    assert body["parent"] == {"id": "russia", "name": "Russia", "kind": "country"}
    assert body["ancestors"] == [{"id": "russia", "name": "Russia", "kind": "country"}]
    assert {"id": "dmitry-rogozin", "name": "Dmitry Rogozin", "kind": "person"} in body["children"]


def test_actor_event_count_rolls_up_sub_actors(client: TestClient) -> None:
    for actor in ("russia", "roscosmos", "united-states"):
        count = client.get(f"/api/v1/actors/{actor}").json()["event_count"]
        assert count == client.get(f"/api/v1/events?actor={actor}").json()["total"]


def test_actor_list_filters_by_kind_and_pages(client: TestClient) -> None:
    agencies = client.get("/api/v1/actors?kind=agency&limit=200").json()
    assert {a["kind"] for a in agencies["items"]} == {"agency"}
    first = client.get("/api/v1/actors?limit=2").json()
    second = client.get(f"/api/v1/actors?limit=2&cursor={first['next_cursor']}").json()
    assert [a["id"] for a in first["items"]] + [a["id"] for a in second["items"]] == [
        a["id"] for a in client.get("/api/v1/actors?limit=4").json()["items"]
    ]


def test_program_by_alias(client: TestClient) -> None:
    body = client.get("/api/v1/programs/ISLS").json()
    assert body["id"] == "ilrs"
    assert "International Lunar Science Station" in body["aliases"]
    assert body["event_count"] == client.get("/api/v1/events?program=ilrs").json()["total"]


def test_source_by_document_file_lists_its_quotes(client: TestClient) -> None:
    body = client.get("/api/v1/sources/003_8e854a67f184ff0b.txt").json()
    assert body["id"] == "russia-and-china-agree-to-build-lunar-station"
    assert body["url"] is None
    assert body["publisher"] is None
    assert body["published_date_estimated"] is True
    assert body["document"]["file"] == "003_8e854a67f184ff0b.txt"
    assert {c["event_id"] for c in body["citations"]} >= {"ilrs-memorandum", "ilrs-station"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/nope",
        "/api/v1/actors/nope",
        "/api/v1/programs/nope",
        "/api/v1/sources/nope",
        "/api/v1/nothing",
    ],
)
def test_unknown_ids_are_404_problems(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete("/api/v1/events")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"}).headers
    assert len(made["x-request-id"]) == 32


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    get = client.get("/api/v1/events?year=2021")
    head = client.head("/api/v1/events?year=2021")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_every_unknown_value_is_named_at_once(client: TestClient) -> None:
    body = client.get("/api/v1/events?actor=rosmos&program=artemiss").json()
    assert [e["input"] for e in body["errors"]] == ["rosmos", "artemiss"]
    assert body["detail"] == (
        "unknown actor 'rosmos' — did you mean 'roscosmos'?; "
        "unknown program 'artemiss' — did you mean 'artemis' or 'artemis-accords'?"
    )
