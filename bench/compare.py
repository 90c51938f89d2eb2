"""`python -m bench compare --base REF`: the main mix, cached and cold, served by the code at
REF and by the working tree (or `--new REF`), on the same datasets, in one run.

REF is checked out into a temporary git worktree, and the working tree copied as it is at the
start (both removed at the end, even on failure). Both servers run with this venv's Python,
each from its own folder (`cwd` and `PYTHONPATH`), and a probe run the same way checks which
folder's `app` package is imported. For each dataset and mix, every round measures both
servers one after the other, as `make bench` measures one (a fresh server pinned to core 0, a
sequential warm-up, then wrk pinned to core 1); the order flips every round (base-new,
new-base, …) so that a machine getting busier or quieter favours neither side.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import datasets, load, record
from bench.compare_report import render, verdict
from bench.datasets import Dataset
from bench.load import PROJECT_ROOT, WrkResult
from bench.model import CompareOptions, Comparison, Pair, Side, mix_paths, size_label

MIXES = {"cached": True, "cold": False}  # mix → the response cache on
# Run as the server runs: prints where `app` comes from and, if that version still has the
# setting, how many responses its cold server would cache ("?" when it cannot tell).
PROBE = """
import app
print(app.__file__)
try:
    from app.core.config import Settings
    print(getattr(Settings(), "response_cache_entries", "?"))
except Exception:
    print("?")
"""


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds through the `finally` that removes the worktree


@contextmanager
def _temporary(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards whatever happens (SIGTERM included)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """The code at `ref`, checked out (detached) in a temporary git worktree, removed
    afterwards whatever happens."""
    with _temporary("bench-base-") as folder:
        tree = folder / "tree"
        try:
            _git("worktree", "add", "--detach", str(tree), ref)
            yield tree
        finally:
            for args in (["remove", "--force", str(tree)], ["prune"]):
                subprocess.run(
                    ["git", "worktree", *args], cwd=PROJECT_ROOT, capture_output=True, check=False
                )


@contextmanager
def snapshot() -> Iterator[Path]:
    """The working tree as it is now (its tracked and untracked, not ignored, files) copied
    into a temporary folder: edits made while the comparison runs do not change what it
    measures."""
    with _temporary("bench-new-") as folder:
        tree = folder / "tree"
        listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        for name in filter(None, listed.split("\0")):
            source = PROJECT_ROOT / name
            if source.is_file():  # a tracked file deleted in the working tree is left out
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, tree / name)
        yield tree


def _env(side: Side, dataset: Dataset, *, cached: bool) -> dict[str, str]:
    return load.app_env(dataset.url, cached=cached) | {"PYTHONPATH": str(side.tree)}


def probe(side: Side, dataset: Dataset) -> None:
    """Check, as the cold server will start, that its `app` comes from its own tree and that
    its response cache is off; record where `app` was imported from."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=side.tree,
        env={**os.environ, **_env(side, dataset, cached=False)},
        capture_output=True,
        text=True,
        check=True,
    )
    imported, entries = done.stdout.split()
    if not Path(imported).resolve().is_relative_to(side.tree.resolve()):
        raise RuntimeError(f"the {side.name} server would import app from {imported}")
    if entries not in ("0", "?"):
        raise RuntimeError(f"the {side.name} cold server would cache {entries} responses")
    side.imported_from = imported


def _measure(
    options: CompareOptions, side: Side, dataset: Dataset, mix: str, number: int, folder: Path
) -> WrkResult:
    """One wrk run of the main mix on a fresh server of one side."""
    paths = mix_paths(dataset.picks.mix)
    port = load.free_port()
    log = folder / f"{mix}-{number}-{side.name}.log"
    env = _env(side, dataset, cached=MIXES[mix])
    with load.serve(load.app_command(port), env, port, log, "/healthz", cwd=side.tree) as server:
        load.warm_up(server, paths, options.warmup_seconds)
        print(f"  round {number}, {mix}, {side.name}: wrk {options.duration:g} s")
        return load.run_wrk(server, paths, options.connections, options.duration, side.name)


def compare_dataset(
    options: CompareOptions, sides: tuple[Side, Side], backend: str, size: int
) -> list[Comparison]:
    """Every round of both mixes on one dataset, the sides' order flipping each round."""
    dataset = datasets.ensure(backend, size, options.seed, pg_url=options.pg_url)
    folder = options.out / f"{backend}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for side in sides:
        probe(side, dataset)
    comparisons = {mix: Comparison(backend, size, mix) for mix in MIXES}
    print(f"{size_label(backend, size)}: {options.rounds} rounds of base and new")
    for number in range(1, options.rounds + 1):
        order = sides if number % 2 else sides[::-1]
        for mix, comparison in comparisons.items():
            before = record.loadavg()
            results = {s.name: _measure(options, s, dataset, mix, number, folder) for s in order}
            pair = Pair(number, order[0].name, results["base"], results["new"], before)
            comparison.pairs.append(pair)
    return list(comparisons.values())


def _commit(ref: str) -> str:
    try:
        return _git("rev-parse", "--short", f"{ref}^{{commit}}")
    except subprocess.CalledProcessError:
        sys.exit(f"not a commit: {ref}")


def _working_tree() -> str:
    head = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "app", "migrations", "seed")
    return f"working tree: {head} + uncommitted changes" if dirty else f"working tree: {head}"


def _differences(base: str, new: str | None) -> list[str]:
    """What differs between the two versions' code and schema, for the report."""
    against = [base, new] if new else [base]
    changed = _git("diff", "--shortstat", *against, "--", "app", "migrations", "seed")
    notes = [f"Tracked files of app/, migrations/, seed/ that differ: {changed or 'none'}."]
    if not new and _git("ls-files", "--others", "--exclude-standard", "--", "app"):
        notes[0] += " The working tree also has new, untracked files in app/."
    if _git("diff", "--stat", *against, "--", "migrations"):
        notes.append(
            "**The migrations differ**: the datasets are built by this tree's schema, which "
            "the other code may not accept."
        )
    return notes


def compare(options: CompareOptions) -> Path:
    """Measure base and new on every dataset; write report.md and results.json, return the
    report's path."""
    load.require_tools()
    options.out.mkdir(parents=True, exist_ok=True)
    started, clock = datetime.now(UTC), time.perf_counter()
    info = record.machine(options.pg_url)
    base = _commit(options.base)
    new = _commit(options.new) if options.new else None
    info["notes"] = _differences(base, new)
    plan = record.targets_of(options.sizes, options.pg_sizes, options.pg_url, info)
    new_code = worktree(new) if new else snapshot()
    with worktree(base) as base_tree, new_code as new_tree:
        sides = (Side("base", base_tree, base), Side("new", new_tree, new or _working_tree()))
        found = [
            c for backend, size in plan for c in compare_dataset(options, sides, backend, size)
        ]
    record.stamp(info, started, clock)
    results = {
        "machine": info,
        "command": options.command,
        "options": asdict(options),
        "sides": [asdict(s) for s in sides],
        "comparisons": [asdict(c) | {"label": c.label, "verdict": verdict(c)} for c in found],
    }
    return record.save(options.out, results, render(info, options, sides, found))
