"""Deterministic synthetic datasets: the same size and seed always give the same rows.

About 300 actors in three levels (20 countries, 80 agencies and companies, 200 people), 30
programs, a pool of sources with publication dates, and N events dated 1957–2040 with mixed
precisions, some spans, ~3 actors each (with roles) and ~2 citations each. Rows are yielded as
tuples in each table's column order, a chunk of events at a time, so 1M events never sit in
memory at once; `bench.datasets` writes them through the app's own schema.
"""

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.core.dates import Precision, period_end

# Bump when the rows generated for a size and seed change: cached databases are rebuilt.
GENERATOR_VERSION = 1

COUNTRIES = 20
ORGS_PER_COUNTRY = 4  # two agencies, two companies
PEOPLE_PER_ORG = (3, 2, 3, 2)  # ten people per country
PROGRAMS = 30
FIRST_YEAR, LAST_YEAR = 1957, 2040
TODAY = date(2026, 1, 1)  # statuses are assigned as of this day, whatever day the bench runs
STAMP = datetime(2026, 1, 1, tzinfo=UTC)
META = (1, STAMP, STAMP, "bench")  # version, created_at, updated_at, updated_by

VOCABULARY = """
space station lunar orbit module crew launch agreement cooperation agency partner program
mission rocket capsule docking research laboratory satellite memorandum treaty withdrawal
sanctions cargo spacewalk astronaut cosmonaut moon mars gateway base habitat engine booster
payload experiment science joint international commercial national signed announced planned
delayed cancelled extended funding budget contract talks summit minister director chief
statement official report telemetry antenna ground control tracking deorbit reentry segment
truss solar array power thermal radiator robotic arm rover lander sample return polar crater
ice water oxygen fuel depot station-keeping supply resupply vehicle heavy reusable first
second third new old future era decade partnership framework principles accords exploration
peaceful use
"""
WORDS = VOCABULARY.split()
PUBLISHERS = [f"Outlet {i:02d}" for i in range(1, 21)] + [None] * 5


def _columns(names: str) -> list[str]:
    return names.split()


ROW_META = "version created_at updated_at updated_by"
EVENT_COLUMNS = _columns(
    "id title summary start_date end_date date_precision date_qualifier date_source status "
    "kind location span_end " + ROW_META
)
EVENT_ACTOR_COLUMNS = _columns("event_id actor_id role position")
EVENT_PROGRAM_COLUMNS = _columns("event_id program_id")
CITATION_COLUMNS = _columns(
    "id event_id source_id quote claimed_date claimed_date_precision claimed_date_qualifier "
    "note position " + ROW_META
)
ACTOR_COLUMNS = _columns("id name kind parent_id country_code wikidata_id description " + ROW_META)
ALIAS_COLUMNS = _columns("id actor_id alias key")
PROGRAM_COLUMNS = _columns("id name description " + ROW_META)
SOURCE_COLUMNS = _columns(
    "id title publisher url published_date published_date_precision published_date_estimated "
    "published_date_note cites published_until document_file document_sha256 " + ROW_META
)

ROLES = ("partner", "signatory", "initiator", "participant", "operator", "speaker", "subject")
LEAD_ROLES = ("signatory", "initiator", "operator", "withdrawing", "declined")
KINDS = _columns("launch agreement withdrawal announcement mission statement conflict milestone")
PRECISIONS = (Precision.day, Precision.month, Precision.year, Precision.decade)
PRECISION_WEIGHTS = (55, 20, 18, 7)
QUALIFIERS = ("exact", "circa", "by", "after")
QUALIFIER_WEIGHTS = (80, 8, 7, 5)

Rows = dict[str, list[tuple[Any, ...]]]


@dataclass
class Actor:
    id: str
    name: str
    kind: str
    parent: str | None
    country: int


@dataclass
class Picks:
    """What the benchmark queries, chosen from the data: the busiest country and year."""

    actor: str
    year: int
    mix: list[tuple[str, int]] = field(default_factory=list)


def actors() -> list[Actor]:
    """20 countries, each with two agencies, two companies and ten people under them."""
    result = []
    for c in range(1, COUNTRIES + 1):
        country = Actor(f"country-{c:02d}", f"Country {c:02d}", "country", None, c)
        result.append(country)
        for o, people in enumerate(PEOPLE_PER_ORG, start=1):
            kind = "agency" if o <= 2 else "company"
            org = Actor(f"{kind}-{c:02d}-{o}", f"{kind.title()} {c:02d}-{o}", kind, country.id, c)
            result.append(org)
            for p in range(1, people + 1):
                pid = f"person-{c:02d}-{o}-{p}"
                result.append(Actor(pid, f"Person {c:02d}-{o}-{p}", "person", org.id, c))
    return result


def _year_weights() -> list[float]:
    """More events in recent years, peaking around 2021, thinning out in planned decades."""
    return [
        1 + (y - FIRST_YEAR) / 20 + 6 * math.exp(-(((y - 2021) / 8) ** 2))
        for y in range(FIRST_YEAR, LAST_YEAR + 1)
    ]


class Generator:
    """Rows for one size and seed; iterate `events()` once, after the reference tables."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.rng = random.Random(seed)
        self.actors = actors()
        self.by_country: dict[int, list[Actor]] = {}
        for actor in self.actors:
            self.by_country.setdefault(actor.country, []).append(actor)
        # Zipf-like weights: country-01 is in far more events than country-20.
        self.country_weights = [1 / c for c in range(1, COUNTRIES + 1)]
        self.years = list(range(FIRST_YEAR, LAST_YEAR + 1))
        self.year_weights = _year_weights()
        self.sources = max(100, size // 20)
        self.source_dates: list[date] = []
        self.start_years: Counter[int] = Counter()  # events of country-01's tree, by start year

    def text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def actor_rows(self) -> Rows:
        actor_rows: list[tuple[Any, ...]] = []
        aliases: list[tuple[Any, ...]] = []
        for actor in self.actors:
            code = "Q" + chr(64 + actor.country) if actor.kind == "country" else None
            actor_rows.append(
                (actor.id, actor.name, actor.kind, actor.parent, code, None, None, *META)
            )
            if actor.kind in ("country", "agency"):
                alias = f"{actor.name} alias"
                aliases.append((len(aliases) + 1, actor.id, alias, alias.casefold()))
        return {"actor": actor_rows, "actor_alias": aliases}

    def program_rows(self) -> Rows:
        rows = [
            (f"program-{p:02d}", f"Program {p:02d}", self.text(8, 16), *META)
            for p in range(1, PROGRAMS + 1)
        ]
        return {"program": rows}

    def source_rows(self) -> Rows:
        rows = []
        rng = self.rng
        first = date(FIRST_YEAR, 1, 1).toordinal()
        last = date(2025, 12, 31).toordinal()
        for s in range(1, self.sources + 1):
            published = date.fromordinal(rng.randint(first, last))
            precision = rng.choices(PRECISIONS[:3], (85, 10, 5))[0]
            if precision is Precision.month:
                published = published.replace(day=1)
            elif precision is Precision.year:
                published = date(published.year, 1, 1)
            self.source_dates.append(published)
            estimated = rng.random() < 0.3
            rows.append(
                (
                    f"source-{s:06d}",
                    self.text(6, 12).capitalize(),
                    rng.choice(PUBLISHERS),
                    f"https://news.example/{s:06d}" if rng.random() < 0.8 else None,
                    published,
                    precision.value,
                    estimated,
                    "Estimated from the article's content." if estimated else None,
                    rng.sample(["Agency A", "Agency B", "Wire C", "Paper D"], rng.randint(0, 2)),
                    period_end(published, precision),
                    None,
                    None,
                    *META,
                )
            )
        return {"source": rows}

    def _date(self, year: int, precision: Precision) -> date:
        if precision is Precision.decade:
            return date(year - year % 10, 1, 1)
        if precision is Precision.year:
            return date(year, 1, 1)
        month = self.rng.randint(1, 12)
        if precision is Precision.month:
            return date(year, month, 1)
        return date(year, month, self.rng.randint(1, 28))

    def _end(self, start: date, precision: Precision) -> date:
        years = self.rng.randint(1, 6)
        if precision is Precision.decade:
            return date(start.year + 10 * self.rng.randint(1, 2), 1, 1)
        if precision is Precision.day:
            return start + timedelta(days=self.rng.randint(1, 900))
        return start.replace(year=min(start.year + years, 2060))

    def _actors_of(self, event_id: str) -> list[tuple[Any, ...]]:
        """2–4 actors: a lead country's actor and its country, then partners elsewhere."""
        rng = self.rng
        lead, *others = rng.choices(range(1, COUNTRIES + 1), self.country_weights, k=3)
        family = self.by_country[lead]
        chosen: list[tuple[str, str]] = [(family[0].id, "partner")]
        member = rng.choice(family[1:])
        chosen.append((member.id, rng.choice(LEAD_ROLES)))
        extra = rng.choices((0, 1, 2), (25, 50, 25))[0]
        for country in others[:extra]:
            pick = rng.choice(self.by_country[country])
            if all(pick.id != a for a, _ in chosen):
                chosen.append((pick.id, rng.choice(ROLES)))
        return [(event_id, a, role, i) for i, (a, role) in enumerate(chosen)]

    def events(self, chunk: int = 10_000) -> Iterator[Rows]:
        """Events with their actors, programs and citations, `chunk` events at a time."""
        rng = self.rng
        citation_id = 0
        batch: Rows = {"event": [], "event_actor": [], "event_program": [], "citation": []}
        for i in range(1, self.size + 1):
            event_id = f"event-{i:07d}"
            year = rng.choices(self.years, self.year_weights)[0]
            precision = rng.choices(PRECISIONS, PRECISION_WEIGHTS)[0]
            start = self._date(year, precision)
            end = self._end(start, precision) if rng.random() < 0.12 else None
            span_end = period_end(end or start, precision)
            qualifier = rng.choices(QUALIFIERS, QUALIFIER_WEIGHTS)[0]
            if span_end < TODAY:
                status = "cancelled" if rng.random() < 0.04 else "occurred"
            else:
                status = "cancelled" if rng.random() < 0.1 else "planned"
            batch["event"].append(
                (
                    event_id,
                    self.text(4, 9).capitalize(),
                    self.text(15, 35).capitalize() + ".",
                    start,
                    end,
                    precision.value,
                    qualifier,
                    "public_record" if rng.random() < 0.05 else "article",
                    status,
                    rng.choice(KINDS),
                    f"Site {rng.randint(1, 60)}" if rng.random() < 0.3 else None,
                    span_end,
                    *META,
                )
            )
            links = self._actors_of(event_id)
            batch["event_actor"].extend(links)
            if links[0][1] == "country-01":
                self.start_years[start.year] += 1
            programs = rng.sample(range(1, PROGRAMS + 1), rng.choices((0, 1, 2), (25, 50, 25))[0])
            batch["event_program"].extend((event_id, f"program-{p:02d}") for p in programs)
            disputed = rng.random() < 0.05
            for position in range(rng.choices((1, 2, 3), (30, 40, 30))[0]):
                citation_id += 1
                claimed, claimed_precision, claimed_qualifier = None, None, None
                if rng.random() < 0.3 or (disputed and position < 2):
                    claimed, claimed_precision = start, precision.value
                    claimed_qualifier = qualifier
                    if disputed and position == 1:
                        claimed = date(start.year + 1, 1, 1)
                        claimed_precision, claimed_qualifier = "year", "by"
                batch["citation"].append(
                    (
                        citation_id,
                        event_id,
                        f"source-{rng.randint(1, self.sources):06d}",
                        self.text(12, 28).capitalize() + ".",
                        claimed,
                        claimed_precision,
                        claimed_qualifier,
                        "The article dates it loosely." if rng.random() < 0.1 else None,
                        position,
                        *META,
                    )
                )
            if i % chunk == 0 or i == self.size:
                yield batch
                batch = {"event": [], "event_actor": [], "event_program": [], "citation": []}

    def picks(self) -> Picks:
        """The main query's actor (the busiest country) and year, and ~30 mix pairs.

        Call after `events()` has run: the busy year is counted while generating.
        """
        year = max(self.start_years, key=lambda y: (self.start_years[y], y))
        rng = random.Random(self.seed + 1)
        countries = [a.id for a in self.actors if a.kind == "country"][:10]
        orgs = [a.id for a in self.actors if a.kind in ("agency", "company")]
        people = [a.id for a in self.actors if a.kind == "person"]
        candidates = countries + rng.sample(orgs, 12) + rng.sample(people, 7)
        mix = [("country-01", year)] + [(a, rng.randint(1985, 2035)) for a in candidates]
        return Picks(actor="country-01", year=year, mix=mix)


TABLE_COLUMNS: dict[str, list[str]] = {
    "actor": ACTOR_COLUMNS,
    "actor_alias": ALIAS_COLUMNS,
    "program": PROGRAM_COLUMNS,
    "source": SOURCE_COLUMNS,
    "event": EVENT_COLUMNS,
    "event_actor": EVENT_ACTOR_COLUMNS,
    "event_program": EVENT_PROGRAM_COLUMNS,
    "citation": CITATION_COLUMNS,
}
