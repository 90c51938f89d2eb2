"""Graceful shutdown: SIGTERM lets a request in flight finish, and refuses new connections.

The request in flight is naturally slow: the CSV export of ~19,000 events (the curated
dataset copied a thousand times), several seconds of streaming.
"""

import csv
import io
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import build_engine
from app.main import prepare_database
from tests.live import Server

pytestmark = pytest.mark.slow

COPIES = 1000
EVENT_COLUMNS = (
    "version, created_at, updated_at, updated_by, title, summary, start_date, end_date, "
    "date_precision, date_qualifier, date_source, status, kind, location, span_end"
)
CITATION_COLUMNS = (
    "version, created_at, updated_at, updated_by, quote, claimed_date, claimed_date_precision, "
    "claimed_date_qualifier, claimed_date_inferred, note, source_id, position"
)


def copies(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in columns.split(","))


def big_database(path: Path) -> tuple[str, int]:
    """The curated dataset, each event copied COPIES times with its citations and actors."""
    url = f"sqlite:///{path}"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = build_engine(settings)
    prepare_database(engine, settings, migrate=True, seed=True)
    numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {COPIES})"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"{numbers} INSERT INTO event (id, {EVENT_COLUMNS}) "
                f"SELECT e.id || '-copy-' || n.i, {copies(EVENT_COLUMNS, 'e')} FROM event e, n"
            )
        )
        conn.execute(
            text(
                f"{numbers} INSERT INTO citation (event_id, {CITATION_COLUMNS}) "
                f"SELECT c.event_id || '-copy-' || n.i, {copies(CITATION_COLUMNS, 'c')} "
                "FROM citation c, n"
            )
        )
        conn.execute(
            text(
                f"{numbers} INSERT INTO event_actor (event_id, actor_id, role, position) "
                "SELECT a.event_id || '-copy-' || n.i, a.actor_id, a.role, a.position "
                "FROM event_actor a, n"
            )
        )
        total = conn.execute(text("SELECT count(*) FROM event")).scalar_one()
    engine.dispose()
    return url, total


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    url, total = big_database(tmp_path / "big.db")
    server = Server(url, tmp_path / "server.log").start()
    received: list[bytes] = []
    outcome: dict[str, object] = {}
    started = threading.Event()

    def download() -> None:
        try:
            with httpx.stream("GET", server.url + "/api/v1/events.csv", timeout=60) as response:
                outcome["status"] = response.status_code
                for chunk in response.iter_bytes():
                    received.append(chunk)
                    started.set()
            outcome["finished"] = time.monotonic()
        except httpx.HTTPError as exc:
            outcome["error"] = repr(exc)
        finally:
            started.set()

    thread = threading.Thread(target=download)
    try:
        thread.start()
        assert started.wait(timeout=30)
        assert "error" not in outcome, outcome
        server.signal(15)  # SIGTERM
        terminated = time.monotonic()
        time.sleep(0.5)
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/healthz", timeout=5)
        refused_while_streaming = thread.is_alive()
        thread.join(timeout=60)
        code = server.wait(timeout=60)
    finally:
        server.stop()
    body = b"".join(received)
    assert outcome.get("status") == 200, outcome
    assert body.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == total + 1  # the header, then every event: nothing cut short
    assert refused_while_streaming, "the export ended before the refusal was tried"
    # Uvicorn re-raises the signal once it has shut down, so the exit says "terminated".
    assert code in (0, -15)
    assert "Finished server process" in server.log()
    finished = outcome["finished"]
    assert isinstance(finished, float)
    print(
        f"\n[graceful-shutdown] events={total}, bytes={len(body)}, "
        f"streamed after SIGTERM={finished - terminated:.2f} s, new connection refused, exit {code}"
    )
