"""What every run records besides its measurements: the machine, the load on it, which
datasets it measures, when it ran, and where its report and results go."""

import json
import platform
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import datasets


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the figures."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine(pg_url: str) -> dict[str, Any]:
    """What the figures depend on: cores, CPU, memory, kernel, Python, databases (PostgreSQL's
    version is None when the server at `pg_url` does not answer)."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    info = {
        "nproc": len([line for line in cpuinfo.splitlines() if line.startswith("processor")]),
        "cpu": model,
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(pg_url),
    }
    return info


def _postgres_version(pg_url: str) -> str | None:
    try:
        dsn = datasets._pg(pg_url, "postgres")
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except psycopg.Error:
        return None


def targets_of(
    sizes: list[int], pg_sizes: list[int], pg_url: str, info: dict[str, Any]
) -> list[tuple[str, int]]:
    """(backend, size) of each dataset to measure; PostgreSQL's only if its server answers."""
    plan = [("sqlite", size) for size in sizes]
    if pg_sizes and info["postgresql"] is None:
        print(f"PostgreSQL at {pg_url} does not answer: skipping its targets")
    elif pg_sizes:
        plan += [("postgresql", size) for size in pg_sizes]
    return plan


def stamp(info: dict[str, Any], started: datetime, clock: float) -> None:
    """Record when the run started and how long it took (since `clock`, a perf_counter)."""
    info["started"] = started.isoformat(timespec="seconds")
    info["minutes"] = round((time.perf_counter() - clock) / 60, 1)


def save(out: Path, results: dict[str, Any], markdown: str) -> Path:
    """Write results.json and report.md into `out`; return the report's path."""
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    report = out / "report.md"
    report.write_text(markdown)
    return report
