"""Crash safety: SIGKILL the server while editors write; after a restart every acknowledged
write is there, whole, and nothing half-written is.

Writers POST events (each with its citation) and citations over real HTTP to a uvicorn
process, each write with its own Idempotency-Key, until the server is killed mid-stream.
On SQLite (WAL, synchronous=NORMAL) and on PostgreSQL, CYCLES kills per backend.
"""

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import build_engine
from tests.conftest import DatabaseFactory
from tests.live import Server, make_token

pytestmark = pytest.mark.slow

CYCLES = 3
WRITERS = 3
ACKS_PER_CYCLE = 40  # acknowledged writes before each kill
MOST_SECONDS_PER_CYCLE = 60
SOURCE = "003_8e854a67f184ff0b.txt"
EVENTS = ["iss-launch", "ilrs-memorandum", "russia-iss-exit"]


@dataclass
class Tally:
    acked: dict[str, str] = field(default_factory=dict)  # name -> "event" | "citation"
    unknown: dict[str, str] = field(default_factory=dict)  # sent, no answer: killed meanwhile
    refused: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_until_killed(base_url: str, token: str, cycle: int, writer: int, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as client:
        for n in range(10_000):
            name = f"crash-{cycle}-{writer}-{n}"
            kind = "event" if n % 2 else "citation"
            if kind == "event":
                path, body = "/api/v1/events", new_event(name)
            else:
                path = f"/api/v1/events/{EVENTS[n % len(EVENTS)]}/citations"
                body = {"source_id": SOURCE, "quote": name}
            try:
                response = client.post(path, json=body, headers={"Idempotency-Key": name})
            except httpx.ConnectError:
                return  # the server is gone: this one was never sent
            except httpx.HTTPError:
                with tally.lock:
                    tally.unknown[name] = kind
                return
            with tally.lock:
                if response.status_code == 201:
                    tally.acked[name] = kind
                else:
                    tally.refused.append(response.status_code)


def new_event(name: str) -> dict[str, object]:
    return {
        "id": name,
        "title": f"Crash test {name}",
        "summary": "Written while the server is killed.",
        "start_date": "2023-01-01",
        "date_precision": "year",
        "status": "occurred",
        "kind": "statement",
        "actors": [{"id": "russia", "role": "speaker"}],
        "citations": [{"source_id": SOURCE, "quote": name}],
    }


INTEGRITY = {
    "events without a citation": """
        SELECT e.id FROM event e WHERE NOT EXISTS (SELECT 1 FROM citation c WHERE c.event_id = e.id)
    """,
    "citations without their create revision": """
        SELECT c.id FROM citation c WHERE NOT EXISTS (
            SELECT 1 FROM revision r
            WHERE r.entity = 'citation' AND r.action = 'create'
            AND r.entity_id = CAST(c.id AS VARCHAR(20)))
    """,
    "events without their create revision": """
        SELECT e.id FROM event e WHERE NOT EXISTS (
            SELECT 1 FROM revision r
            WHERE r.entity = 'event' AND r.action = 'create' AND r.entity_id = e.id)
    """,
    "event revisions without their row": """
        SELECT r.entity_id FROM revision r
        WHERE r.entity = 'event' AND r.action = 'create'
        AND NOT EXISTS (SELECT 1 FROM event e WHERE e.id = r.entity_id)
        AND NOT EXISTS (SELECT 1 FROM revision d
                        WHERE d.entity = 'event' AND d.entity_id = r.entity_id
                        AND d.action = 'delete')
    """,
    "citation revisions without their row": """
        SELECT r.entity_id FROM revision r
        WHERE r.entity = 'citation' AND r.action = 'create' AND r.author = 'prover'
        AND NOT EXISTS (SELECT 1 FROM citation c WHERE CAST(c.id AS VARCHAR(20)) = r.entity_id)
    """,
    "idempotency keys without their write": """
        SELECT k.key FROM idempotency_key k
        WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.id = k.key)
        AND NOT EXISTS (SELECT 1 FROM citation c WHERE c.quote = k.key)
    """,
}


def inspect(url: str) -> tuple[dict[str, list[object]], set[str], set[str], int]:
    """Integrity problems, event ids, citation quotes, and data version minus revisions."""
    engine = build_engine(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        with engine.connect() as conn:
            problems = {
                name: list(conn.execute(text(sql)).scalars()) for name, sql in INTEGRITY.items()
            }
            events = set(conn.execute(text("SELECT id FROM event")).scalars())
            quotes = set(conn.execute(text("SELECT quote FROM citation")).scalars())
            version = conn.execute(text("SELECT version FROM data_version")).scalar_one()
            revisions = conn.execute(text("SELECT count(*) FROM revision")).scalar_one()
    finally:
        engine.dispose()
    return problems, events, quotes, version - revisions


def test_acknowledged_writes_survive_sigkill(databases: DatabaseFactory, tmp_path: Path) -> None:
    url = databases.create().url
    log = tmp_path / "server.log"
    server = Server(url, log).start()  # migrates and seeds the empty database
    token = make_token(url)
    _, _, _, offset = inspect(url)
    tally = Tally()
    found_unacked = 0
    for cycle in range(CYCLES):
        if cycle:
            server = Server(url, log).start()
        writers = [
            threading.Thread(target=write_until_killed, args=(server.url, token, cycle, w, tally))
            for w in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        # Kill once enough writes were acknowledged, however fast this machine is today.
        wanted = len(tally.acked) + ACKS_PER_CYCLE
        deadline = time.monotonic() + MOST_SECONDS_PER_CYCLE
        while len(tally.acked) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        server.signal(9)  # SIGKILL: no shutdown, no flush, no goodbye
        server.wait(timeout=10)
        for thread in writers:
            thread.join(timeout=60)
            assert not thread.is_alive()

        problems, events, quotes, drift = inspect(url)
        assert problems == {name: [] for name in INTEGRITY}, problems
        assert drift == offset, "data_version and the revision count disagree"
        for name, kind in tally.acked.items():
            assert name in (events if kind == "event" else quotes), f"acknowledged {name} lost"
            assert name in quotes  # an event's citation came with it
        found_unacked = sum(name in quotes for name in tally.unknown)

    server = Server(url, log).start()
    try:
        assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200
        event = httpx.get(f"{server.url}/api/v1/events/{EVENTS[0]}", timeout=10)
        assert event.status_code == 200
    finally:
        server.stop()
    assert tally.refused == []
    assert len(tally.acked) >= ACKS_PER_CYCLE * CYCLES, "the writers stalled"
    print(
        f"\n[crash-{databases.backend}] kills={CYCLES}, acknowledged={len(tally.acked)}, "
        f"all found, in flight at the kill={len(tally.unknown)} "
        f"(of which committed before the kill: {found_unacked}), integrity problems=0"
    )
