"""Load the curated dataset into the database: idempotent, and respectful of editors' changes.

A record is written when it is new, or when its seed data changed since the last load and no
editor has touched the row since (the row's version is still the one the seed wrote). Editors'
changes and deletions are kept unless `force` is given.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.actors.models import Actor, ActorAlias
from app.actors.writes import ACTOR
from app.core.dates import period_end
from app.core.meta import SeedRecord
from app.core.migrate import migration_lock
from app.core.models import utcnow
from app.core.names import NameScope, claim_names, distinct_aliases, lookup_key
from app.core.versioning import bump_data_version
from app.events.models import Citation, Event, EventActor, EventProgram
from app.events.writes import EVENT, citation_snapshot, rebuild_derived
from app.history.models import Entity
from app.history.service import Tracked
from app.history.service import record as record_revision
from app.programs.models import Program, ProgramAlias
from app.programs.writes import PROGRAM
from app.sources.models import Source
from app.sources.writes import SOURCE
from seed.check import check_dataset
from seed.schema import (
    ActorRecord,
    Dataset,
    EventRecord,
    ProgramRecord,
    SeedError,
    SourceRecord,
    read_dataset,
)

SEED_DIR = Path(__file__).resolve().parent / "data"
SEED_AUTHOR = "seed"
TRACKED: dict[str, Tracked] = {"actor": ACTOR, "program": PROGRAM, "source": SOURCE, "event": EVENT}


@dataclass
class SeedReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.kept)} kept as editors left them"
        )
        if self.kept:
            text += "\n  kept: " + ", ".join(self.kept)
        return text


def read_and_check(seed_dir: Path, articles_dir: Path | None) -> Dataset:
    """Read the dataset and run every check; raise SeedError listing all problems."""
    dataset = read_dataset(seed_dir)
    problems = check_dataset(dataset, articles_dir)
    if problems:
        raise SeedError(problems)
    return dataset


def is_empty(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(Event)).scalar_one() == 0


def seed_database(
    engine: Engine,
    *,
    seed_dir: Path = SEED_DIR,
    articles_dir: Path | None = None,
    force: bool = False,
) -> SeedReport:
    """Check the dataset, then load it in one transaction."""
    dataset = read_and_check(seed_dir, articles_dir)
    # Under the migration lock: two loads at once would both add the same records.
    with migration_lock(engine) as conn, Session(bind=conn) as session:
        report = load_dataset(session, dataset, force=force)
        session.commit()
    return report


def load_dataset(session: Session, dataset: Dataset, *, force: bool = False) -> SeedReport:
    """Write what is new or changed in the dataset; the caller commits.

    Each record written is recorded in the history, whose followers rebuild what shows a
    changed actor, program or source; the events written have their derived rows rebuilt
    here, once."""
    report = SeedReport()
    for record in _parents_first(dataset.actors):
        _apply(session, report, "actor", Actor, record, _write_actor, force)
    for program in dataset.programs:
        _apply(session, report, "program", Program, program, _write_program, force)
    for source in dataset.sources:
        _apply(session, report, "source", Source, source, _write_source, force)
    for event in dataset.events:
        _apply(session, report, "event", Event, event, _write_event, force)
    changed = report.added + report.updated
    if changed:
        events = [c.removeprefix("event ") for c in changed if c.startswith("event ")]
        rebuild_derived(session, events)
        bump_data_version(session)
    return report


def _digest(record: Any) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def _apply(
    session: Session,
    report: SeedReport,
    kind: str,
    model: type[Any],
    record: Any,
    write: Callable[[Session, Any, Any], None],
    force: bool,
) -> None:
    digest = _digest(record)
    row = session.get(model, record.id)
    seen = session.get(SeedRecord, (kind, record.id))
    label = f"{kind} {record.id}"
    edited = (row is None and seen is not None) or (
        row is not None and (seen is None or row.version != seen.row_version)
    )
    if edited and not force:
        report.kept.append(label)
        return
    if seen is not None and seen.digest == digest and not force:
        report.unchanged += 1
        return
    tracked, before = TRACKED[kind], None
    if row is None:
        row = model(id=record.id)
        report.added.append(label)
    else:
        before = tracked.snapshot(session, row)
        row.version += 1
        row.updated_at = utcnow()
        report.updated.append(label)
    row.updated_by = SEED_AUTHOR
    write(session, row, record)
    session.add(row)
    session.flush()
    record_revision(
        session,
        entity=tracked.entity,
        entity_id=row.id,
        before=before,
        after=tracked.snapshot(session, row),
        author=SEED_AUTHOR,
        reason="seed data",
    )
    if kind == "event":
        _sync_citations(session, row, record)
    if seen is None:
        seen = SeedRecord(kind=kind, key=record.id, digest=digest, row_version=row.version)
    seen.digest, seen.row_version, seen.loaded_at = digest, row.version, utcnow()
    session.add(seen)


def _parents_first(actors: Sequence[ActorRecord]) -> list[ActorRecord]:
    by_id = {a.id: a for a in actors}
    ordered: list[ActorRecord] = []
    placed: set[str] = set()

    def place(actor: ActorRecord) -> None:
        if actor.id in placed:
            return
        placed.add(actor.id)
        if actor.parent in by_id:
            place(by_id[actor.parent])
        ordered.append(actor)

    for actor in actors:
        place(actor)
    return ordered


def _write_actor(session: Session, row: Actor, record: ActorRecord) -> None:
    row.name, row.kind, row.parent_id = record.name, record.kind, record.parent
    row.country_code, row.wikidata_id = record.country_code, record.wikidata_id
    row.description = record.description
    session.add(row)
    session.flush()
    claim_names(session, NameScope.actor, record.id, [record.id, record.name, *record.aliases])
    session.execute(delete(ActorAlias).where(col(ActorAlias.actor_id) == record.id))
    session.flush()
    for alias in distinct_aliases(record.aliases, [record.id, record.name]):
        session.add(ActorAlias(actor_id=record.id, alias=alias, key=lookup_key(alias)))


def _write_program(session: Session, row: Program, record: ProgramRecord) -> None:
    row.name, row.description = record.name, record.description
    session.add(row)
    session.flush()
    claim_names(session, NameScope.program, record.id, [record.id, record.name, *record.aliases])
    session.execute(delete(ProgramAlias).where(col(ProgramAlias.program_id) == record.id))
    session.flush()
    for alias in distinct_aliases(record.aliases, [record.id, record.name]):
        session.add(ProgramAlias(program_id=record.id, alias=alias, key=lookup_key(alias)))


def _write_source(session: Session, row: Source, record: SourceRecord) -> None:
    row.title, row.publisher, row.url = record.title, record.publisher, record.url
    published = record.published_date
    row.published_date = published.value if published else None
    row.published_date_precision = published.precision if published else None
    row.published_until = published.last_day if published else None
    row.published_date_estimated = record.published_date_estimated
    row.published_date_note = record.published_date_note
    row.cites = list(record.cites)
    row.document_file = record.document.file if record.document else None
    row.document_sha256 = record.document.sha256 if record.document else None


def _write_event(session: Session, row: Event, record: EventRecord) -> None:
    start, end = record.date, record.end
    row.title, row.summary = record.title, record.summary
    row.start_date = start.value
    row.end_date = end.value if end else None
    row.date_precision = start.precision
    row.date_qualifier = record.qualifier
    row.date_source = record.date_source
    row.span_end = period_end((end or start).value, start.precision)
    row.status, row.kind, row.location = record.status, record.kind, record.location
    if session.get(Event, record.id) is None:
        session.add(row)
        session.flush()
    session.execute(delete(EventActor).where(col(EventActor.event_id) == record.id))
    session.execute(delete(EventProgram).where(col(EventProgram.event_id) == record.id))
    for position, link in enumerate(record.actors):
        session.add(
            EventActor(event_id=record.id, actor_id=link.id, role=link.role, position=position)
        )
    for program in record.programs:
        session.add(EventProgram(event_id=record.id, program_id=program))


def _sync_citations(session: Session, row: Event, record: EventRecord) -> None:
    """Replace the event's citations when the seed's differ, recording each change."""
    old = (
        session.execute(
            select(Citation)
            .where(col(Citation.event_id) == row.id)
            .order_by(col(Citation.position))
        )
        .scalars()
        .all()
    )
    wanted = [
        Citation(
            event_id=record.id,
            source_id=cited.source,
            quote=cited.quote,
            claimed_date=cited.claimed_date.value if cited.claimed_date else None,
            claimed_date_precision=cited.claimed_date.precision if cited.claimed_date else None,
            claimed_date_qualifier=cited.claimed_qualifier if cited.claimed_date else None,
            claimed_date_inferred=cited.claimed_inferred if cited.claimed_date else None,
            note=cited.note,
            position=position,
            updated_by=SEED_AUTHOR,
        )
        for position, cited in enumerate(record.citations)
    ]
    if [citation_snapshot(c) for c in old] == [citation_snapshot(c) for c in wanted]:
        return
    for citation in old:
        record_revision(
            session,
            entity=Entity.citation,
            entity_id=str(citation.id),
            event_id=record.id,
            before=citation_snapshot(citation),
            after=None,
            author=SEED_AUTHOR,
            reason="seed data",
        )
        session.delete(citation)
    session.flush()
    for citation in wanted:
        session.add(citation)
        session.flush()
        record_revision(
            session,
            entity=Entity.citation,
            entity_id=str(citation.id),
            event_id=record.id,
            before=None,
            after=citation_snapshot(citation),
            author=SEED_AUTHOR,
            reason="seed data",
        )
