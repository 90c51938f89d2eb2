"""The markdown report of one run: machine, command, datasets, latency, throughput, memory,
and the issue's targets, each marked met or missed."""

from typing import Any

from bench.load import WrkResult
from bench.model import Options, Target

MIB = 1024
ASKED_SIZE = 100_000  # the dataset size issue 7 sets its throughput targets at
APP_RUNS = ("(a)", "(b)")  # the labels of the runs that serve the app itself
NOTES = """\
- Each server runs alone, pinned to core 0 (`taskset -c 0`, one uvicorn worker, the app
  started by `python -m app serve` with its default INFO access log going to a file); wrk is
  pinned to core 1 (`-t1`, `--timeout 2s`), after a short untimed warm-up per server.
- (a) rotates through ~30 main-query URLs (different actors, countries to people, and years).
  (b) is the same mix on a server started with `RESPONSE_CACHE_ENTRIES=0`: no response is
  served from memory; only the count behind `total` (as issue 7 allows) and the filters'
  resolved actor ids are kept per data version.
- (c) is `bench/ceiling.py`, a bare ASGI callable on the same uvicorn answering the main
  query's exact bytes (fetched once from the real server): the stack's ceiling.
- (d) is Datasette serving the same page as a canned SQL query on the same SQLite file
  (immutable mode, one process, pinned like the app), driven by the same ~30 actor/year pairs.
  It computes no total, cursor, labels or disputes, so it does less work per request.
- Every run gets a fresh server, warmed up by a few seconds of sequential requests (so no
  backlog is left in flight): uvicorn keeps running requests wrk has given up on, and a
  backlog from one run would slow the next.
- wrk's latency percentiles cover answered requests; "timeouts" are answers that came after
  wrk's 2 s timeout (when they exceed 50% (1%) of the answers, p50 (p99) shows `> 2000`).
  Requests still waiting when wrk stops are in no column: with every connection busy, mean
  latency ≈ connections ÷ req/s (Little's law) is the better guide. "errors" are socket
  errors and non-2xx/3xx answers.
- "server CPU" is the CPU the server process used during the run (1.00 = its core fully
  busy). "other CPU" is what every other process but wrk used meanwhile, PostgreSQL
  included: the database runs on the same machine, not pinned, so on PostgreSQL runs it
  competes for both cores. Other work on the machine shows there too.
- "kB per answer" is what wrk read per answer, headers included. The mix's pages fill up as
  the dataset grows (its people and companies have more events in a year), so at 1M an
  answer carries more events than at 100k, and a cold answer costs more.
- "RSS" is the largest VmRSS seen after a run (VmHWM: the peak) over the label's servers.
"""


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def wrk_percentile(result: WrkResult, q: int) -> str:
    """wrk's percentile over answered requests; `> 2000` when the answers that came after
    wrk's 2 s timeout make it meaningless, `–` when nothing was answered."""
    if result.requests == 0:
        return "–"
    if result.errors.get("timeout", 0) / result.requests > 1 - q / 100:
        return "> 2000"
    return ms(result.p50_ms if q == 50 else result.p99_ms)


def _find(target: Target, prefix: str, connections: int) -> WrkResult | None:
    return next(
        (r for r in target.load if r.label.startswith(prefix) and r.connections == connections),
        None,
    )


def _latency(targets: list[Target]) -> str:
    names = list(dict.fromkeys(t.name for target in targets for t in target.latency))
    rows = []
    for name in names:
        row = [name]
        for target in targets:
            timing = next((t for t in target.latency if t.name == name), None)
            if timing is None:
                row.append("–")
                continue
            cell = f"{ms(timing.p50_ms)} / {ms(timing.p99_ms)} (n={timing.runs})"
            row.append(cell + (f" ¹ {timing.note}" if timing.note else ""))
        rows.append(row)
    sizes = ["response size of the main query"]
    sizes += [f"{t.main_bytes:,} B, total={t.main_total:,}" for t in targets]
    rows.append(sizes)
    header = ["endpoint (p50 / p99 ms)"] + [t.label for t in targets]
    return table(header, rows)


def _beside(target: Target) -> str:
    """PostgreSQL's timings next to SQLite's, taken with their requests alternated."""
    theirs, ours = target.beside
    rows = [
        [
            mine.name,
            f"{ms(other.p50_ms)} / {ms(other.p99_ms)} (n={other.runs})",
            f"{ms(mine.p50_ms)} / {ms(mine.p99_ms)} (n={mine.runs})",
            f"{mine.p50_ms / other.p50_ms:.2f}×" if other.p50_ms else "–",
        ]
        for other, mine in zip(theirs, ours, strict=True)
    ]
    header = ["endpoint (p50 / p99 ms)", "SQLite", "PostgreSQL", "PostgreSQL ÷ SQLite (p50)"]
    return table(header, rows)


def _throughput(target: Target) -> str:
    rows = []
    for result in target.load:
        ceiling = _find(target, "(c)", result.connections)
        ratio = f"{result.rps / ceiling.rps:.1%}" if ceiling and ceiling.rps else "–"
        errors = ", ".join(f"{k} {v}" for k, v in result.errors.items() if v and k != "timeout")
        rows.append(
            [
                result.label,
                str(result.connections),
                f"{result.rps:,.1f}" if result.rps < 100 else f"{result.rps:,.0f}",
                wrk_percentile(result, 50),
                wrk_percentile(result, 99),
                errors or "0",
                str(result.errors.get("timeout", 0)),
                ratio,
                f"{result.bytes_per_answer / 1000:,.1f}",
                f"{result.server_cores:.2f}",
                f"{result.other_cores:.2f}",
            ]
        )
    header = ["run", "conns", "req/s", "p50 ms", "p99 ms", "errors", "timeouts", "of (c)"]
    header += ["kB per answer", "server CPU (cores)", "other CPU (cores)"]
    return table(header, rows)


def _memory(targets: list[Target]) -> str:
    rows = []
    for target in targets:
        for label, memory in target.memory_kib.items():
            rss, hwm = memory.get("VmRSS", 0) / MIB, memory.get("VmHWM", 0) / MIB
            rows.append([target.label, label, f"{rss:.0f}", f"{hwm:.0f}"])
    return table(["target", "server", "RSS after the runs (MiB)", "peak RSS (MiB)"], rows)


def _mark(ok: bool, *, asked: bool = True) -> str:
    """Whether a target holds; a miss where the issue does not ask it is for reference."""
    if ok:
        return "met"
    return "**missed**" if asked else "below (asked at 100k only)"


def _within_twice(label: str, what: str, ratio: float) -> list[str]:
    return [label, f"PostgreSQL within 2× of SQLite: {what}", f"{ratio:.2f}×", _mark(ratio <= 2)]


def _targets(targets: list[Target]) -> str:
    rows: list[list[str]] = []
    for target in targets:
        # Issue 7 sets its throughput targets at 100k; other sizes are held to them for
        # reference only.
        asked = target.size == ASKED_SIZE
        cached, ceiling = _find(target, "(a)", 64), _find(target, "(c)", 64)
        if cached and ceiling:
            share = cached.rps / ceiling.rps
            p99 = wrk_percentile(cached, 99)
            ok = share >= 0.4 and not p99.startswith(">") and cached.p99_ms <= 15
            got = f"{share:.1%} of ceiling, p99 {p99} ms"
            rows.append(
                [
                    target.label,
                    "(a) mix ≥ 40% of ceiling, p99 ≤ 15 ms @64",
                    got,
                    _mark(ok, asked=asked),
                ]
            )
        cold = _find(target, "(b)", 64)
        if cold:
            timeouts = cold.errors.get("timeout", 0)
            p99 = wrk_percentile(cold, 99)
            ok = cold.rps >= 750 and not p99.startswith(">") and cold.p99_ms <= 100
            ok = ok and cold.error_count == 0 and timeouts == 0
            got = f"{cold.rps:,.1f} req/s, p99 {p99} ms, "
            got += f"{cold.error_count} errors, {timeouts} timeouts"
            rows.append(
                [
                    target.label,
                    "(b) cold ≥ 750 req/s, p99 ≤ 100 ms, 0 errors @64",
                    got,
                    _mark(ok, asked=asked),
                ]
            )
            datasette = _find(target, "(d)", 64)
            if datasette and datasette.rps:
                times = cold.rps / datasette.rps
                rows.append(
                    [
                        target.label,
                        "(b) cold ≥ 3× Datasette (req/s @64, same machine and run)",
                        f"{times:.1f}×",
                        _mark(times >= 3, asked=asked),
                    ]
                )
        first = next((t for t in target.latency if t.name.startswith("page 1 ")), None)
        deep = next((t for t in target.latency if t.name.startswith("page 200")), None)
        if first and deep:
            ratio = deep.p50_ms / first.p50_ms
            rows.append(
                [target.label, "page 200 ≤ 1.5× page 1 (p50)", f"{ratio:.2f}×", _mark(ratio <= 1.5)]
            )
        # The worker's peak over both of the app's runs, cached and cold.
        peaks = [m["VmHWM"] for label, m in target.memory_kib.items() if label[:3] in APP_RUNS]
        if peaks and target.size >= 1_000_000:
            rss = max(peaks) / MIB
            got = f"{rss:.0f} MiB (peak of (a) and (b))"
            rows.append([target.label, "RSS ≤ 200 MiB at 1M", got, _mark(rss <= 200)])
    sqlite = {t.size: t for t in targets if t.backend == "sqlite"}
    if 10_000 in sqlite and 1_000_000 in sqlite:
        ratio = sqlite[1_000_000].latency[0].p50_ms / sqlite[10_000].latency[0].p50_ms
        rows.append(
            ["SQLite", "main query p50 at 1M ≤ 2× at 10k", f"{ratio:.1f}×", _mark(ratio <= 2)]
        )
    for target in (t for t in targets if t.backend == "postgresql"):
        twin = sqlite.get(target.size)
        if twin:
            # The timings taken beside SQLite, requests alternated, where there are some.
            theirs, ours = target.beside or [twin.latency, target.latency]
            how = "p50, alternated" if target.beside else "p50"
            twins = {t.name: t for t in theirs}
            for timing in ours:
                other = twins.get(timing.name)
                if other is None or not other.p50_ms:
                    continue
                ratio = timing.p50_ms / other.p50_ms
                rows.append(_within_twice(target.label, f"{timing.name} ({how})", ratio))
            for run, name in (("(a)", "cached"), ("(b)", "cold")):
                pg_run, sq_run = _find(target, run, 64), _find(twin, run, 64)
                if pg_run and sq_run and pg_run.rps and sq_run.rps:
                    ratio = sq_run.rps / pg_run.rps
                    rows.append(_within_twice(target.label, f"{name} req/s @64", ratio))
    return table(["target", "goal (issue 7)", "measured", ""], rows)


def render(info: dict[str, Any], options: Options, targets: list[Target]) -> str:
    """The whole report as markdown."""
    parts = [
        "# Benchmark report",
        f"Started {info['started']}, {info['minutes']} minutes.",
        "## Machine",
        table(
            ["cores", "CPU", "memory", "kernel", "Python", "SQLite", "PostgreSQL"],
            [
                [
                    str(info["nproc"]),
                    info["cpu"],
                    f"{info['memory_gib']} GiB",
                    info["kernel"],
                    info["python"],
                    info["sqlite"],
                    str(info["postgresql"] or "not used"),
                ]
            ],
        ),
        "## Command",
        f"```sh\n{options.command}\n```",
        "## Datasets",
        table(
            ["target", "events", "event_actor", "citation", "sources", "built in", "reused"],
            [
                [
                    t.label,
                    f"{t.rows['event']:,}",
                    f"{t.rows['event_actor']:,}",
                    f"{t.rows['citation']:,}",
                    f"{t.rows['source']:,}",
                    f"{t.build_seconds:.0f} s",
                    "yes" if t.reused else "no",
                ]
                for t in targets
            ],
        ),
        "## In-process latency",
        f"Sequential requests through the ASGI app (httpx ASGITransport), {options.warmup} "
        f"warm-up requests then up to {options.runs} timed ones, at most {options.budget:g} s "
        "per endpoint.",
        _latency(targets),
    ]
    for target in (t for t in targets if t.beside):
        parts += [
            f"### {target.label} beside SQLite",
            f"The same requests again, each one to SQLite at {target.label.split()[0]} followed "
            "by the same one to PostgreSQL, so that both see the machine in the same state; "
            "the targets' PostgreSQL-within-2× rows use these.",
            _beside(target),
        ]
    for target in (t for t in targets if t.load):
        parts += [f"## HTTP load, {target.label}", _throughput(target)]
        parts += [f"- load average (1, 5, 15 min) before each step: {'; '.join(target.loadavg)}"]
        parts += [f"- {note}" for note in target.notes]
    parts += ["## How to read the load tables", NOTES]
    if any(t.memory_kib for t in targets):
        parts += ["## Memory", _memory(targets)]
    parts += ["## Targets", _targets(targets)]
    return "\n\n".join(parts) + "\n"
