"""Where the main query's time goes: py-spy samples the real server while wrk loads it.

The server runs as in the load runs (pinned to core 0, one worker); wrk repeats the main
query over one connection, so one request is in flight at a time and no thread waits for
another's GIL; py-spy records every thread's stacks. Idle samples (worker threads waiting for
work, the event loop waiting for the network) are left out. The summary gives, for a few
functions of the request path, the share of busy samples they appear in (inclusive), then the
hottest leaf frames.
"""

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import datasets, load
from bench.model import main_query

# (label, substrings of a frame): a sample counts for a label when any of its frames matches.
CATEGORIES = [
    ("resolve_filters: actor lookup and descendants", ["resolve_filters (app/"]),
    ("page_of_events: the page query", ["page_of_events (app/"]),
    ("assemble: actors, programs, citations queries + models", ["assemble (app/"]),
    ("  of which to_public: EventPublic models (pydantic)", ["to_public (app/"]),
    ("count_events: the total", ["count_events (app/"]),
    ("data_etag: data version read", ["data_etag (app/"]),
    (
        "SQL in the driver (execute + fetch)",
        ["do_execute (", "_fetchall_impl (", "fetchall (", "fetchone (", "_fetchone_impl ("],
    ),
    (
        "opening connections (pool, pragmas)",
        ["_on_connect (app/", "__connect (", "connect (sqlite3"],
    ),
    ("FastAPI serialize_response (validation + jsonable)", ["serialize_response (fastapi/"]),
    ("JSONResponse render (json.dumps)", ["render (starlette/responses.py"]),
    ("solving dependencies (query params → models)", ["solve_dependencies (fastapi/"]),
    ("access log line (logging + JSON formatting)", ["Logger.info (logging/"]),
]


# A sample whose innermost frame is one of these is a thread with nothing to do.
IDLE = ("Condition.wait (threading.py", "Runner.run (asyncio/runners.py", "_worker (concurrent")


def summarise(raw: Path) -> str:
    """Inclusive shares by category, and the top leaf frames, from py-spy's raw output."""
    total = 0
    counts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        if stack.rsplit(";", 1)[-1].startswith(IDLE):
            continue
        total += samples
        for label, needles in CATEGORIES:
            if any(needle in stack for needle in needles):
                counts[label] += samples
        leaves[stack.rsplit(";", 1)[-1]] += samples
    if not total:
        return "no samples"
    lines = [f"{total} busy samples", "", "inclusive share of busy samples:"]
    lines += [f"  {counts[label] / total:6.1%}  {label}" for label, _ in CATEGORIES]
    lines += ["", "top leaf frames (self time):"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in leaves.most_common(20)]
    return "\n".join(lines)


def profile(backend: str, size: int, seed: int, pg_url: str, seconds: float, out: Path) -> None:
    """Load the main query with wrk for `seconds` while py-spy records the server."""
    load.require_tools()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    dataset = datasets.ensure(backend, size, seed, pg_url=pg_url)
    out.mkdir(parents=True, exist_ok=True)
    main = main_query(dataset.picks.actor, dataset.picks.year)
    env = load.app_env(dataset.url)
    port = load.free_port()
    log = out / "server.log"
    raw = out / f"{backend}-{size}.pyspy.txt"
    with load.serve(load.app_command(port), env, port, log, "/healthz") as server:
        load.warm_up(server, [main], 3)
        paths = out / "main.paths"
        paths.write_text(main + "\n")
        wrk = subprocess.Popen(
            load.pinned(
                load.WRK_CORE,
                [
                    *("wrk", "-t1", "-c1", f"-d{seconds + 4:g}s"),
                    *("-s", str(load.BENCH_DIR / "mix.lua"), server.base, "--", str(paths)),
                ],
            ),
            stdout=subprocess.DEVNULL,
        )
        try:
            subprocess.run(
                load.pinned(
                    load.WRK_CORE,
                    [
                        *(spy, "record", "--pid", str(server.process.pid)),
                        *("--duration", f"{seconds:g}", "--rate", "200", "--format", "raw"),
                        "--idle",  # waiting for PostgreSQL is time spent too
                        *("--output", str(raw)),
                    ],
                ),
                check=True,
                capture_output=True,
            )
        finally:
            wrk.wait()
    summary = summarise(raw)
    (out / "summary.txt").write_text(summary + "\n")
    print(summary)
    print(f"raw stacks: {raw}")
