"""Database outages, against a real uvicorn process: 503 with Retry-After within a bounded time,
never a hang or a 500, and recovery without a restart.

PostgreSQL runs as a throwaway cluster of the test's own (initdb, pg_ctl, a free port): the
shared server is never touched. Timeouts are set small, as an operator would for a fast
failover: connect 2 s, pool 2 s, statement 2 s, so a request gives up within
statement + 2 × connect = 6 s; BOUND leaves room for a loaded machine.
"""

import os
import re
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import Cluster, cluster, make_token, serving

pytestmark = pytest.mark.slow

FAST_FAILURE = {
    "DB_CONNECT_TIMEOUT": "2",
    "DB_POOL_TIMEOUT": "2",
    "DB_STATEMENT_TIMEOUT_MS": "2000",
    "RETRY_AFTER_SECONDS": "1",
}
BOUND = 10.0
READS = ["/api/v1/events?limit=5", "/api/v1/events/iss-launch", "/api/v1/actors"]


@dataclass
class Sample:
    sent: float
    path: str
    status: int | str
    seconds: float
    content_type: str = ""
    retry_after: str | None = None


@dataclass
class Load:
    """Light load: one read every 50 ms from a thread, at most `limit` of them."""

    base_url: str
    limit: int = 2000
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.is_set() and len(self.samples) < self.limit:
                path = READS[len(self.samples) % len(READS)]
                sent = time.monotonic()
                try:
                    response = client.get(path)
                    status: int | str = response.status_code
                    content_type = response.headers.get("content-type", "")
                    retry_after = response.headers.get("retry-after")
                except httpx.HTTPError as exc:
                    status, content_type, retry_after = type(exc).__name__, "", None
                seconds = time.monotonic() - sent
                self.samples.append(Sample(sent, path, status, seconds, content_type, retry_after))
                self._stop.wait(0.05)

    def __enter__(self) -> "Load":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=60)
        assert not self._thread.is_alive()

    def since(self, moment: float) -> list[Sample]:
        return [s for s in self.samples if s.sent >= moment]


def wait_for(predicate: Any, timeout: float, step: float = 0.2) -> float:
    """Seconds until `predicate()` is true; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")


def assert_unavailable(response: httpx.Response, seconds: float, server: Any = None) -> None:
    """A 503 problem with Retry-After, within BOUND; the server's log (when given) tells why
    one was not."""
    told = f"\nserver log:\n{server.log()}" if server is not None else ""
    assert response.status_code == 503, response.text + told
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert seconds < BOUND, f"{response.request.url.path}: {seconds:.2f} s{told}"


def timed(client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.request(method, path, **kwargs)
    return response, time.monotonic() - started


def report(name: str, **figures: object) -> None:
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def test_postgresql_stopped_then_restarted(tmp_path: Path) -> None:
    with cluster() as pg, serving(pg.url, tmp_path / "server.log", **FAST_FAILURE) as server:
        token = make_token(pg.url)
        auth = {"Authorization": f"Bearer {token}"}
        citation = {"source_id": "003_8e854a67f184ff0b.txt", "quote": "during the outage"}
        client = httpx.Client(base_url=server.url, timeout=30)
        with Load(server.url) as load:
            time.sleep(2)
            assert {s.status for s in load.samples} == {200}
            pg.stop("immediate")
            down = time.monotonic()
            for path in READS:
                assert_unavailable(*timed(client, "GET", path))
            write, seconds = timed(
                client, "POST", "/api/v1/events/iss-launch/citations", json=citation, headers=auth
            )
            assert_unavailable(write, seconds)
            ready, seconds = timed(client, "GET", "/readyz")
            assert ready.status_code == 503
            assert seconds < BOUND
            assert client.get("/healthz").status_code == 200
            time.sleep(3)
            up = time.monotonic()  # from here on the server may answer again
            pg.start()
            recovered = wait_for(
                lambda: client.get("/api/v1/events?limit=1").status_code == 200, timeout=30
            )
            time.sleep(3)
        client.close()
    outage = [s for s in load.since(down) if s.sent < up]
    after = load.since(up)
    first_ok = next(i for i, s in enumerate(after) if s.status == 200)
    assert outage
    assert [s for s in outage if s.status != 503] == []
    assert all(s.content_type == "application/problem+json" for s in outage)
    assert all(s.retry_after == "1" for s in outage)
    assert max(s.seconds for s in load.samples) < BOUND
    assert all(s.status in (200, 503) for s in after[:first_ok])
    assert [s.status for s in after[first_ok:]] == [200] * len(after[first_ok:])
    report(
        "postgresql-stopped",
        requests=len(load.samples),
        during_outage=len(outage),
        slowest_503_s=round(max(s.seconds for s in outage), 2),
        recovered_after_s=round(recovered, 2),
        after_recovery_ok=len(after) - first_ok,
    )


@contextmanager
def frozen(pg: Cluster) -> Iterator[None]:
    """SIGSTOP the postmaster and every backend: connections open, nothing answers."""
    pids = pg.pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def test_postgresql_that_stops_answering(tmp_path: Path) -> None:
    with cluster() as pg, serving(pg.url, tmp_path / "server.log", **FAST_FAILURE) as server:
        client = httpx.Client(base_url=server.url, timeout=30)
        for path in READS * 3:  # warm the pool: the next reads meet open connections
            assert client.get(path).status_code == 200
        with frozen(pg):
            slowest = 0.0
            for path in [*READS, *READS]:
                response, seconds = timed(client, "GET", path)
                assert_unavailable(response, seconds, server)
                slowest = max(slowest, seconds)
            ready, seconds = timed(client, "GET", "/readyz")
            assert ready.status_code == 503
            assert seconds < BOUND
            health, seconds = timed(client, "GET", "/healthz")
            assert health.status_code == 200
            assert seconds < 1
        recovered = wait_for(lambda: client.get(READS[0]).status_code == 200, timeout=30)
        assert all(client.get(path).status_code == 200 for path in READS * 3)
        client.close()
    report("postgresql-frozen", slowest_503_s=round(slowest, 2), recovered_s=round(recovered, 2))


@contextmanager
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_database_address_that_never_answers(tmp_path: Path) -> None:
    with black_hole() as port:
        url = f"postgresql://postgres@127.0.0.1:{port}/timeline"
        env = {**FAST_FAILURE, "AUTO_MIGRATE": "false", "AUTO_SEED": "false"}
        with serving(url, tmp_path / "server.log", **env) as server:
            client = httpx.Client(base_url=server.url, timeout=30)
            slowest = 0.0
            for path in READS:
                response, seconds = timed(client, "GET", path)
                assert_unavailable(response, seconds, server)
                slowest = max(slowest, seconds)
            ready, seconds = timed(client, "GET", "/readyz")
            assert ready.status_code == 503
            assert seconds < BOUND
            assert client.get("/healthz").status_code == 200
            client.close()
            # The operator reads why: the driver's words, not just a class name.
            assert re.search(r"database unavailable: \w+: \S", server.log()), server.log()
    report("black-hole", slowest_503_s=round(slowest, 2))


def test_sqlite_locked_by_another_writer(tmp_path: Path) -> None:
    """WAL mode: a writer holding the lock blocks writers (503 after the busy timeout), while
    readers go on reading the last committed state."""
    path = tmp_path / "timeline.db"
    env = {"SQLITE_BUSY_TIMEOUT_MS": "500", "RETRY_AFTER_SECONDS": "1"}
    with serving(f"sqlite:///{path}", tmp_path / "server.log", **env) as server:
        token = make_token(f"sqlite:///{path}")
        auth = {"Authorization": f"Bearer {token}"}
        client = httpx.Client(base_url=server.url, timeout=30)
        before = client.get("/api/v1/events/iss-launch").json()
        locker = sqlite3.connect(path, isolation_level=None, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            body = {"source_id": "003_8e854a67f184ff0b.txt", "quote": "while locked"}
            write, write_seconds = timed(
                client, "POST", "/api/v1/events/iss-launch/citations", json=body, headers=auth
            )
            assert_unavailable(write, write_seconds)
            patch, seconds = timed(
                client, "PATCH", "/api/v1/events/iss-launch", json={"title": "x"}, headers=auth
            )
            assert_unavailable(patch, seconds)
            read, seconds = timed(client, "GET", "/api/v1/events/iss-launch")
            assert read.status_code == 200
            assert read.json() == before
            assert seconds < 1
            assert client.get("/readyz").status_code == 200
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        again = client.post(
            "/api/v1/events/iss-launch/citations", json=body, headers=auth
        ).status_code
        assert again == 201
        client.close()
    report("sqlite-locked", write_503_s=round(write_seconds, 2))
