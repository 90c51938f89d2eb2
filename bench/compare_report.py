"""The markdown report of `python -m bench compare`: per dataset and mix, the median of each
side, the rounds' new ÷ base ratios and whether the new code is within 10% of the base, then
every round."""

import statistics
from typing import Any

from bench.load import WrkResult
from bench.model import CompareOptions, Comparison, Side
from bench.report import table, wrk_percentile

WITHIN = 0.10  # issue 21: the new code's req/s and p99 within 10% of the base's


STARVED = 0.8  # a server given less of its core than this measured the machine, not the code


def _per_cpu(result: WrkResult) -> float:
    """Answers per CPU second the server used: what the code costs, whatever share of its
    core the machine's other work left it (the database's own work is not counted)."""
    return result.requests / result.server_cpu_seconds if result.server_cpu_seconds else 0.0


def _ratio(new: float, base: float) -> float | None:
    return new / base if base else None


def _ratios(comparison: Comparison) -> dict[str, list[float]]:
    """Each round's new ÷ base (the two runs of a round are adjacent), by measure."""
    measures = {
        "rps": lambda r: r.rps,
        "p99": lambda r: r.p99_ms,
        "per_cpu": _per_cpu,
    }
    found: dict[str, list[float]] = {}
    for name, value in measures.items():
        ratios = (_ratio(value(p.new), value(p.base)) for p in comparison.pairs)
        found[name] = [r for r in ratios if r is not None]
    return found


def _median(values: list[float], empty: float) -> float:
    return statistics.median(values) if values else empty


def verdict(comparison: Comparison) -> dict[str, Any]:
    """Medians of each side and of the rounds' ratios, and whether the new code is within
    10% of the base (a faster new side is within, however much faster)."""
    ratios = _ratios(comparison)
    pairs = comparison.pairs
    found = {
        f"{side}_{measure}": statistics.median(getattr(getattr(p, side), measure) for p in pairs)
        for side in ("base", "new")
        for measure in ("rps", "p99_ms", "server_cores")
    }
    found |= {f"{name}_ratio": _median(values, 0.0) for name, values in ratios.items()}
    found |= {f"{name}_ratio_range": [min(v), max(v)] for name, v in ratios.items() if v}
    found["new_errors"] = sum(p.new.error_count + p.new.errors.get("timeout", 0) for p in pairs)
    found["within"] = (
        bool(ratios["rps"])
        and found["rps_ratio"] >= 1 - WITHIN
        and found["p99_ratio"] <= 1 + WITHIN
    )
    # On SQLite a loaded server should fill its core; on PostgreSQL it also waits for the
    # database, so a low share there says nothing by itself.
    least = min(found["base_server_cores"], found["new_server_cores"])
    found["starved"] = comparison.backend == "sqlite" and least < STARVED
    return found


def _rps(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _cell(values: dict[str, Any], name: str) -> str:
    """A median ratio with the range of the rounds' ratios."""
    low, high = values.get(f"{name}_ratio_range", [0.0, 0.0])
    return f"{values[f'{name}_ratio']:.3f} ({low:.2f}–{high:.2f})"


def _summary(comparisons: list[Comparison]) -> str:
    rows = []
    for comparison in comparisons:
        v = verdict(comparison)
        mark = "met" if v["within"] else "**missed**"
        rows.append(
            [
                comparison.label,
                f"{_rps(v['base_rps'])} / {_rps(v['new_rps'])}",
                _cell(v, "rps"),
                f"{v['base_p99_ms']:.1f} / {v['new_p99_ms']:.1f}",
                _cell(v, "p99"),
                f"{v['base_server_cores']:.2f} / {v['new_server_cores']:.2f}",
                _cell(v, "per_cpu"),
                str(v["new_errors"]),
                mark + (" (server starved)" if v["starved"] else ""),
            ]
        )
    header = ["dataset, mix", "req/s base / new", "new ÷ base req/s (range)"]
    header += ["p99 ms base / new", "new ÷ base p99 (range)", "server cores base / new"]
    header += ["new ÷ base req per server CPU s (range)", "new errors + timeouts", "within 10%"]
    return table(header, rows)


def _rounds(comparison: Comparison) -> str:
    rows = []
    for pair in comparison.pairs:
        base, new = pair.base, pair.new
        errors = sum(r.error_count + r.errors.get("timeout", 0) for r in (base, new))
        ratios = (
            _ratio(new.rps, base.rps),
            _ratio(new.p99_ms, base.p99_ms),
            _ratio(_per_cpu(new), _per_cpu(base)),
        )
        rows.append(
            [
                str(pair.round),
                f"{pair.first} first",
                f"{_rps(base.rps)} / {_rps(new.rps)}",
                f"{wrk_percentile(base, 99)} / {wrk_percentile(new, 99)}",
                f"{base.server_cores:.2f} / {new.server_cores:.2f}",
                *(f"{r:.3f}" if r is not None else "–" for r in ratios),
                str(errors),
                pair.loadavg,
            ]
        )
    header = ["round", "order", "req/s base / new", "p99 ms base / new", "server cores"]
    header += ["new ÷ base req/s", "new ÷ base p99", "new ÷ base per CPU s"]
    header += ["errors + timeouts", "load avg before"]
    return table(header, rows)


def render(
    info: dict[str, Any], options: CompareOptions, sides: tuple[Side, Side], found: list[Comparison]
) -> str:
    """The comparison as markdown: the verdicts first, then every round."""
    parts = [
        "# Benchmark comparison",
        f"Started {info['started']}, {info['minutes']} minutes, on {info['nproc']} cores "
        f"({info['cpu']}); PostgreSQL {info['postgresql'] or 'not used'}.",
        f"```sh\n{options.command}\n```",
        table(
            ["side", "code", "app imported from"],
            [[s.name, s.revision, f"`{s.imported_from}`"] for s in sides],
        ),
        *info["notes"],
        f"The main mix at {options.connections} connections, {options.duration:g} s of wrk per "
        f"run, {options.rounds} rounds; each run on a fresh server after "
        f"{options.warmup_seconds:g} s of sequential warm-up, the two sides' runs adjacent and "
        "their order flipped every round. Cold: `RESPONSE_CACHE_ENTRIES=0`. A ratio is the "
        "median of the rounds' new ÷ base; within 10% means req/s ≥ 0.90× and p99 ≤ 1.10× "
        "the base's (faster is within).",
        _summary(found),
        '"Server cores" is the CPU the server used during wrk (1.00: its core fully busy); '
        '"req per server CPU s" divides answers by it, so it follows what the code costs '
        "even when other work on the machine takes the server's core (the database's own "
        'work is not in it). A SQLite verdict marked "server starved" had a side\'s median '
        f"below {STARVED:.2f} cores: other work took its core, so its req/s and p99 measured "
        "the machine more than the code (on PostgreSQL the server also waits for the "
        "database, so its share is lower anyway).",
    ]
    for comparison in found:
        parts += [f"## {comparison.label}", _rounds(comparison)]
    return "\n\n".join(parts) + "\n"
