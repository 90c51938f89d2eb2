"""What a benchmark run asks and what it finds, shared by the runners and their reports so
that imports flow one way (run → report → model, compare → compare_report → model). It
imports nothing of the app: a comparison runs while the app's internals move."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.load import WrkResult


def main_query(actor: str, year: int) -> str:
    """The issue's main query: actor X (sub-actors included) in year Y, 50 per page."""
    return "/api/v1/events?" + urlencode({"actor": actor, "year": year, "limit": 50})


def mix_paths(mix: list[tuple[str, int]]) -> list[str]:
    """The main query for each actor/year pair of the mix the load runs rotate through."""
    return [main_query(actor, year) for actor, year in mix]


def size_label(backend: str, size: int) -> str:
    """`100k SQLite`, `1M PostgreSQL`: how the reports name a dataset."""
    count = f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"
    return f"{count} {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}"


@dataclass
class Timing:
    """One endpoint's in-process latency."""

    name: str
    url: str
    runs: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    bytes: int
    note: str = ""


@dataclass
class Options:
    sizes: list[int]
    pg_sizes: list[int]
    pg_url: str
    seed: int
    runs: int
    warmup: int
    budget: float
    duration: float
    warmup_seconds: float
    connections: list[int]
    load: bool
    datasette: bool
    rebuild: bool
    out: Path
    command: str


@dataclass
class Target:
    backend: str
    size: int
    rows: dict[str, int]
    build_seconds: float
    reused: bool
    main_total: int = 0
    main_bytes: int = 0
    latency: list[Timing] = field(default_factory=list)
    load: list[WrkResult] = field(default_factory=list)
    memory_kib: dict[str, dict[str, int]] = field(default_factory=dict)
    loadavg: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # PostgreSQL only: its in-process timings and its SQLite twin's, requests alternated.
    beside: list[list[Timing]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return size_label(self.backend, self.size)


@dataclass
class CompareOptions:
    base: str  # the git ref whose code is measured against the working tree's
    new: str | None  # a git ref to measure instead of the working tree
    sizes: list[int]
    pg_sizes: list[int]
    pg_url: str
    seed: int
    rounds: int
    duration: float
    warmup_seconds: float
    connections: int
    out: Path
    command: str


@dataclass
class Side:
    """One version of the code: the tree its server runs from, and what that tree is."""

    name: str  # "base" or "new"
    tree: Path
    revision: str  # the commit, with "+ uncommitted changes" for a dirty working tree
    imported_from: str = ""  # where its `app` package was imported from, checked by a probe


@dataclass
class Pair:
    """One round of one mix: the base and the new server, one after the other."""

    round: int
    first: str  # the side measured first ("base" or "new"): the order alternates
    base: WrkResult
    new: WrkResult
    loadavg: str = ""


@dataclass
class Comparison:
    """One mix (cached or cold) on one dataset, over every round."""

    backend: str
    size: int
    mix: str
    pairs: list[Pair] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{size_label(self.backend, self.size)}, {self.mix}"
