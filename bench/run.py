"""One benchmark run: for each target (backend × size) the dataset, in-process latency, the
wrk runs next to the ceiling and Datasette, and the server's memory; then the report."""

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import datasets, datasette, latency, load
from bench.datasets import Dataset
from bench.model import Options, Target, main_query, mix_paths
from bench.record import loadavg, machine, save, stamp, targets_of
from bench.report import render

DATASETTE = "(d) Datasette"


def _load_runs(options: Options, dataset: Dataset, target: Target, folder: Path) -> None:
    """Each wrk run on a fresh server, warmed up by sequential requests, so no backlog of
    abandoned requests from one run slows the next."""
    picks = dataset.picks
    mix = mix_paths(picks.mix)
    main = main_query(picks.actor, picks.year)
    body_file = folder / "main-body.json"

    def measure(
        label: str, command: Any, env: dict[str, str], paths: list[str], ready: str
    ) -> None:
        target.loadavg.append(f"{label}: {loadavg()}")
        for connections in options.connections:
            port = load.free_port()
            log = folder / f"server-{label[1]}-{connections}.log"
            with load.serve(command(port), env, port, log, ready) as server:
                if not body_file.exists():
                    response = httpx.get(server.base + main, timeout=120)
                    response.raise_for_status()
                    body_file.write_bytes(response.content)
                # Datasette refuses a query past its time limit (a 400 wrk counts as an
                # error); the app must answer every one.
                load.warm_up(server, paths, options.warmup_seconds, strict=label != DATASETTE)
                if label == DATASETTE and connections == options.connections[0]:
                    answer = httpx.get(server.base + paths[0], timeout=120)
                    page = answer.content
                    target.notes.append(
                        f"Datasette's page for the main query: {len(json.loads(page))} rows, "
                        f"{len(page):,} bytes"
                        if answer.status_code == 200
                        else f"Datasette's page for the main query: HTTP {answer.status_code}"
                        " (its SQL time limit is 10 s)"
                    )
                print(f"  wrk {label}, {connections} connections, {options.duration:g} s")
                result = load.run_wrk(server, paths, connections, options.duration, label)
                target.load.append(result)
                memory = server.memory_kib()
                seen = target.memory_kib.setdefault(label, {})
                for key, value in memory.items():
                    seen[key] = max(seen.get(key, 0), value)

    measure("(a) mix", load.app_command, load.app_env(dataset.url), mix, "/healthz")
    cold_env = load.app_env(dataset.url, cached=False)
    measure("(b) mix, cold (RESPONSE_CACHE_ENTRIES=0)", load.app_command, cold_env, mix, "/healthz")
    ceiling_env = {"BENCH_CEILING_BODY": str(body_file)}
    measure("(c) ceiling", load.ceiling_command, ceiling_env, [main], "/")

    if dataset.backend == "sqlite" and options.datasette and dataset.sqlite_path:
        sqlite_path = dataset.sqlite_path
        database = sqlite_path.stem
        metadata = folder / "datasette.yml"
        datasette.write_metadata(metadata, database)
        paths = [datasette.page_path(database, actor, year) for actor, year in picks.mix]

        def command(port: int) -> list[str]:
            return datasette.command(sqlite_path, metadata, port)

        measure(DATASETTE, command, {}, paths, "/-/versions.json")


def run_target(options: Options, backend: str, size: int) -> Target:
    dataset = datasets.ensure(
        backend, size, options.seed, pg_url=options.pg_url, rebuild=options.rebuild
    )
    target = Target(backend, size, dataset.rows, dataset.build_seconds, dataset.reused)
    folder = options.out / f"{backend}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{target.label}: in-process latency")
    target.loadavg.append(f"in-process: {loadavg()}")
    target.latency, target.main_total = latency.measure(
        dataset,
        runs=options.runs,
        warmup=options.warmup,
        budget=options.budget,
        log_path=folder / "inprocess.log",
    )
    target.main_bytes = target.latency[0].bytes
    if options.load:
        _load_runs(options, dataset, target, folder)
    return target


def _beside_sqlite(options: Options, target: Target) -> None:
    """PostgreSQL's in-process timings again, each request followed by the same request to
    SQLite at the same size: the ratios the issue asks for, with both seeing the machine in
    the same state (the targets' own tables were measured minutes apart)."""
    print(f"{target.label} beside SQLite: in-process latency, requests alternated")
    both = [
        datasets.ensure(backend, target.size, options.seed, pg_url=options.pg_url)
        for backend in ("sqlite", "postgresql")
    ]
    target.loadavg.append(f"beside SQLite: {loadavg()}")
    target.beside = latency.compare(
        both,
        runs=options.runs,
        warmup=options.warmup,
        budget=options.budget,
        log_path=options.out / f"postgresql-{target.size}" / "beside-sqlite.log",
    )


def run(options: Options) -> Path:
    """Run every target and write report.md and results.json; return the report's path."""
    if options.load:
        load.require_tools()
    options.out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    info = machine(options.pg_url)
    clock = time.perf_counter()
    plan = targets_of(options.sizes, options.pg_sizes, options.pg_url, info)
    targets = [run_target(options, backend, size) for backend, size in plan]
    for target in targets:
        if target.backend == "postgresql" and target.size in options.sizes:
            _beside_sqlite(options, target)
    stamp(info, started, clock)
    results = {
        "machine": info,
        "command": options.command,
        "options": asdict(options),
        "targets": [asdict(t) | {"label": t.label} for t in targets],
    }
    return save(options.out, results, render(info, options, targets))
