"""Races between editors, over real HTTP to two uvicorn workers: no lost update without a 412,
no duplicate from retried POSTs sharing an Idempotency-Key, and a complete history."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.live import Server, make_token, serving

pytestmark = pytest.mark.slow

SOURCE = "003_8e854a67f184ff0b.txt"


@pytest.fixture
def server(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    url = databases.create().url
    with serving(url, tmp_path / "server.log", WORKERS="2") as running:
        yield running, make_token(url)


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released at the same moment; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    return results


def history(client: httpx.Client, event_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/events/{event_id}/history", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_editors_racing_on_one_event_never_lose_an_update(server: tuple[Server, str]) -> None:
    running, token = server
    editors, rounds = 8, 6
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=running.url, timeout=60, headers=headers) as client:
        first_etag = client.get("/api/v1/events/iss-launch").headers["etag"]

        def edit(editor: int) -> list[tuple[int, str, str, dict[str, Any] | None]]:
            outcomes = []
            with httpx.Client(base_url=running.url, timeout=60, headers=headers) as own:
                for n in range(rounds):
                    etag = own.get("/api/v1/events/iss-launch").headers["etag"]
                    response = own.patch(
                        "/api/v1/events/iss-launch",
                        json={"title": f"Edited by {editor}, round {n}"},
                        headers={"If-Match": etag},
                    )
                    body = response.json() if response.status_code == 200 else None
                    outcomes.append(
                        (response.status_code, etag, response.headers.get("etag", ""), body)
                    )
            return outcomes

        outcomes = [o for per_editor in together(editors, edit) for o in per_editor]
        final = client.get("/api/v1/events/iss-launch")
        updates = [
            r
            for r in history(client, "iss-launch")
            if r["action"] == "update" and r["author"] == "prover"
        ]

    statuses = [status for status, *_ in outcomes]
    assert set(statuses) <= {200, 412}, statuses
    won = [(sent, got, body) for status, sent, got, body in outcomes if status == 200]
    assert len(won) == len(updates)  # every 200 is one recorded revision, and only those
    assert len({sent for sent, _, _ in won}) == len(won)  # no two wins from the same version
    # Replayed in the history's order, each win was based on the version the previous one made.
    by_title = {body["title"]: (sent, got) for sent, got, body in won}
    previous = first_etag
    for revision in updates:
        sent, got = by_title[revision["changes"]["title"]["after"]]
        assert sent == previous
        previous = got
    assert final.headers["etag"] == previous
    assert final.json()["title"] == updates[-1]["changes"]["title"]["after"]
    print(
        f"\n[race-one-event] editors={editors}, attempts={len(outcomes)}, "
        f"200={len(won)}, 412={statuses.count(412)}, revisions={len(updates)}, lost=0"
    )


def test_editors_on_different_events_do_not_block_each_other(server: tuple[Server, str]) -> None:
    running, token = server
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=running.url, timeout=60, headers=headers) as client:
        events = [e["id"] for e in client.get("/api/v1/events?limit=6").json()["items"]]

        def edit(i: int) -> list[int]:
            codes = []
            with httpx.Client(base_url=running.url, timeout=60, headers=headers) as own:
                for n in range(5):
                    etag = own.get(f"/api/v1/events/{events[i]}").headers["etag"]
                    response = own.patch(
                        f"/api/v1/events/{events[i]}",
                        json={"summary": f"Summary {n} by editor {i}."},
                        headers={"If-Match": etag},
                    )
                    codes.append(response.status_code)
            return codes

        codes = together(len(events), edit)
        assert codes == [[200] * 5] * len(events)
        for i, event_id in enumerate(events):
            assert client.get(f"/api/v1/events/{event_id}").json()["summary"] == (
                f"Summary 4 by editor {i}."
            )
            revisions = [
                r
                for r in history(client, event_id)
                if r["action"] == "update" and r["author"] == "prover"
            ]
            assert len(revisions) == 5
    print(f"\n[race-many-events] editors={len(events)}, writes={len(events) * 5}, all 200")


@pytest.mark.parametrize("resource", ["citation", "event"])
def test_a_retried_post_never_duplicates(server: tuple[Server, str], resource: str) -> None:
    running, token = server
    senders, keys = 6, 3
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=running.url, timeout=60, headers=headers) as client:
        for k in range(keys):
            name = f"retried-{resource}-{k}"
            if resource == "citation":
                path, body = (
                    "/api/v1/events/iss-launch/citations",
                    {"source_id": SOURCE, "quote": name},
                )
            else:
                path, body = (
                    "/api/v1/events",
                    {
                        "id": name,
                        "title": name,
                        "summary": "Sent six times at once.",
                        "start_date": "2023-01-01",
                        "date_precision": "year",
                        "status": "occurred",
                        "kind": "statement",
                        "actors": [{"id": "russia", "role": "speaker"}],
                        "citations": [{"source_id": SOURCE, "quote": name}],
                    },
                )

            def send(_: int, path: str = path, body: dict[str, Any] = body, key: str = name) -> Any:
                with httpx.Client(base_url=running.url, timeout=60, headers=headers) as own:
                    return own.post(path, json=body, headers={"Idempotency-Key": key})

            responses = together(senders, send)
            assert [r.status_code for r in responses] == [201] * senders, [
                (r.status_code, r.text[:200]) for r in responses
            ]
            assert len({r.content for r in responses}) == 1
            assert sum("idempotency-replayed" in r.headers for r in responses) == senders - 1
            event_id = "iss-launch" if resource == "citation" else name
            quotes = [
                c["quote"] for c in client.get(f"/api/v1/events/{event_id}").json()["citations"]
            ]
            assert quotes.count(name) == 1
    print(f"\n[race-idempotency-{resource}] keys={keys}, senders per key={senders}, created=1 each")
