"""`python -m bench run|compare|generate|profile|page`: see docs/performance.md."""

import argparse
import shlex
import sys
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bench.datasets import DEFAULT_PG_URL
from bench.model import CompareOptions, Options

RESULTS = Path(__file__).resolve().parent / "results"
Chosen = TypeVar("Chosen", Options, CompareOptions)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def _options(kind: type[Chosen], args: argparse.Namespace, folder: str) -> Chosen:
    """A command's options from the arguments of the same names, with the report's folder
    (`--out`, or `folder` under bench/results) and the command line that asked for it."""
    values = {f.name: getattr(args, f.name) for f in fields(kind) if hasattr(args, f.name)}
    out = (args.out or RESULTS / folder).resolve()
    return kind(**values | {"out": out, "command": _command()})


def _command() -> str:
    return shlex.join(["python", "-m", "bench", *sys.argv[1:]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="generate (or reuse) datasets, measure, report")
    run.add_argument("--sizes", type=_sizes, default=[10_000, 100_000], help="SQLite sizes")
    run.add_argument("--pg-sizes", type=_sizes, default=[100_000], help="PostgreSQL sizes")
    run.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server (admin URL)")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--runs", type=int, default=200, help="timed requests per endpoint")
    run.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    run.add_argument("--budget", type=float, default=30, help="max seconds per endpoint")
    run.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    run.add_argument(
        "--warmup-seconds", type=float, default=3, help="sequential warm-up per server"
    )
    run.add_argument(
        "--nice", type=int, default=0, help="niceness of servers and wrk (e.g. -10 on a busy box)"
    )
    run.add_argument("--connections", type=_sizes, default=[16, 64])
    run.add_argument("--no-load", dest="load", action="store_false", help="latency only")
    run.add_argument("--no-datasette", dest="datasette", action="store_false")
    run.add_argument("--rebuild", action="store_true", help="regenerate cached datasets")
    run.add_argument("--out", type=Path, help="folder for the report (bench/results/<time>)")

    compare = commands.add_parser(
        "compare", help="the main mix on the code at a git ref and on this tree, alternated"
    )
    compare.add_argument("--base", required=True, help="git ref of the code to compare with")
    compare.add_argument("--new", help="git ref to measure instead of the working tree")
    compare.add_argument("--sizes", type=_sizes, default=[100_000], help="SQLite sizes")
    compare.add_argument("--pg-sizes", type=_sizes, default=[100_000], help="PostgreSQL sizes")
    compare.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server (admin URL)")
    compare.add_argument("--seed", type=int, default=1)
    compare.add_argument("--rounds", type=int, default=4, help="base/new pairs per mix")
    compare.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    compare.add_argument("--warmup-seconds", type=float, default=3)
    compare.add_argument("--connections", type=int, default=64)
    compare.add_argument("--nice", type=int, default=0, help="niceness of servers and wrk")
    compare.add_argument("--out", type=Path, help="folder for the report")

    generate = commands.add_parser("generate", help="build (or reuse) one dataset")
    generate.add_argument("--size", type=int, required=True)
    generate.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--pg-url", default=DEFAULT_PG_URL)
    generate.add_argument("--rebuild", action="store_true")

    profile = commands.add_parser("profile", help="py-spy the server under the main query")
    profile.add_argument("--size", type=int, default=100_000)
    profile.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    profile.add_argument("--seed", type=int, default=1)
    profile.add_argument("--pg-url", default=DEFAULT_PG_URL)
    profile.add_argument("--seconds", type=float, default=15)
    profile.add_argument("--out", type=Path)
    profile.add_argument("--nice", type=int, default=0)

    page = commands.add_parser("page", help="time the page at / in headless Chromium")
    page.add_argument("--loads", type=int, default=20, help="cold page loads to time")
    page.add_argument("--out", type=Path)

    args = parser.parse_args(argv)
    if args.command in ("run", "compare", "profile"):
        from bench import load

        load.NICE = args.nice
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if args.command == "page":
        from bench.page import measure

        print(measure(args.loads, (args.out or RESULTS / f"page-{stamp}").resolve()).summary())
    elif args.command == "generate":
        from bench.datasets import ensure

        dataset = ensure(
            args.backend, args.size, args.seed, pg_url=args.pg_url, rebuild=args.rebuild
        )
        print(dataset.url, dataset.rows, dataset.picks.actor, dataset.picks.year)
    elif args.command == "profile":
        from bench.profile import profile as run_profile

        out = args.out or RESULTS / f"profile-{stamp}"
        run_profile(args.backend, args.size, args.seed, args.pg_url, args.seconds, out)
    else:
        from bench.compare import compare as run_compare
        from bench.run import run as run_bench

        if args.command == "compare":
            report = run_compare(_options(CompareOptions, args, f"compare-{stamp}"))
        else:
            report = run_bench(_options(Options, args, stamp))
        print(report.read_text())
        print(f"report: {report}")


if __name__ == "__main__":
    main()
