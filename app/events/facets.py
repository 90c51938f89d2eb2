"""Facet counts: for each value, how many matching events also involve it (SPEC §4)."""

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, Subquery, extract, func, select
from sqlmodel import Session, col

from app.actors.models import Actor
from app.events.models import Event, EventActor, EventProgram
from app.events.service import ResolvedFilters, matching_ids
from app.programs.models import Program


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class YearCount(BaseModel):
    year: int
    count: int


class Facets(BaseModel):
    """Counts for a filter panel; each is the total you would get by adding that value."""

    total: int = Field(description="Events matching the filters.")
    year: list[YearCount] = Field(description="Events overlapping each year, oldest first.")
    actor: list[FacetValue] = Field(
        description="Events involving each actor or anyone below it (roll-up)."
    )
    program: list[FacetValue]
    kind: list[FacetValue]
    status: list[FacetValue]


def _ranked(counts: dict[str, int], labels: dict[str, str]) -> list[FacetValue]:
    return sorted(
        (FacetValue(value=v, label=labels.get(v, v), count=n) for v, n in counts.items() if n),
        key=lambda f: (-f.count, f.label.casefold()),
    )


def facets(session: Session, filters: ResolvedFilters) -> Facets:
    """Every facet for these filters: years, kinds and statuses from one aggregate query,
    actors and programs from one each."""
    dialect = session.get_bind().dialect.name
    matching = matching_ids(filters, dialect).subquery("matching")
    in_matching = col(Event.id).in_(select(matching.c.id))

    groups = session.execute(
        select(
            extract("year", col(Event.start_date)).label("first"),
            extract("year", col(Event.span_end)).label("last"),
            col(Event.kind),
            col(Event.status),
            func.count(),
        )
        .where(in_matching)
        .group_by("first", "last", col(Event.kind), col(Event.status))
    ).all()
    total = 0
    years: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for first, last, kind, status, count in groups:
        total += count
        kinds[str(kind)] += count
        statuses[str(status)] += count
        for year in range(int(first), int(last) + 1):
            years[year] += count

    actor_rows = session.execute(_actor_counts(matching, filters.role)).all()
    program_rows = session.execute(
        select(col(Program.id), col(Program.name), func.count())
        .join(EventProgram, col(EventProgram.program_id) == col(Program.id))
        .where(col(EventProgram.event_id).in_(select(matching.c.id)))
        .group_by(col(Program.id), col(Program.name))
    ).all()

    return Facets(
        total=total,
        year=[YearCount(year=y, count=n) for y, n in sorted(years.items())],
        actor=_ranked({a: n for a, _, n in actor_rows}, {a: name for a, name, _ in actor_rows}),
        program=_ranked({p: n for p, _, n in program_rows}, {p: nm for p, nm, _ in program_rows}),
        kind=_ranked(kinds, {}),
        status=_ranked(statuses, {}),
    )


def _actor_counts(matching: Subquery, role: str | None) -> Select[Any]:
    """(actor, name, events) for every actor the matching events involve (in `role`, when
    given), directly or through someone below it."""
    # (ancestor, descendant) pairs, each actor being its own ancestor: the roll-up.
    tree = select(col(Actor.id).label("ancestor"), col(Actor.id).label("descendant")).cte(
        "tree", recursive=True
    )
    tree = tree.union_all(
        select(tree.c.ancestor, col(Actor.id)).where(col(Actor.parent_id) == tree.c.descendant)
    )
    link = select(col(EventActor.event_id), col(EventActor.actor_id)).where(
        col(EventActor.event_id).in_(select(matching.c.id))
    )
    if role is not None:
        link = link.where(col(EventActor.role) == role)
    links = link.subquery("links")
    return (
        select(tree.c.ancestor, col(Actor.name), func.count(func.distinct(links.c.event_id)))
        .join(links, links.c.actor_id == tree.c.descendant)
        .join(Actor, col(Actor.id) == tree.c.ancestor)
        .group_by(tree.c.ancestor, col(Actor.name))
    )
