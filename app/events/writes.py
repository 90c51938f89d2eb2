"""Creating, changing and deleting events and their citations, with their history; and what
other packages that write events call to keep the rows derived from them in step."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from app.actors.service import find_actor_id, suggest_actors
from app.core.dates import ClaimQualifier, Precision, period_end
from app.core.editing import ConflictError, InvalidDataError, touch
from app.core.names import slugify
from app.events import derived, documents
from app.events.inputs import (
    ActorLinkIn,
    CitationCreate,
    CitationUpdate,
    EventCreate,
    EventUpdate,
    date_problems,
)
from app.events.models import Citation, Event, EventActor, EventProgram
from app.history.models import Action, Entity
from app.history.service import Snapshot, Tracked, recorded
from app.programs.service import find_program_id, suggest_programs
from app.sources.service import find_source_id, suggest_sources

EVENT_FIELDS = (
    "title",
    "summary",
    "start_date",
    "end_date",
    "date_precision",
    "date_qualifier",
    "date_source",
    "status",
    "kind",
    "location",
)
CITATION_FIELDS = (
    "source_id",
    "quote",
    "claimed_date",
    "claimed_date_precision",
    "claimed_date_qualifier",
    "claimed_date_inferred",
    "note",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def event_snapshot(session: Session, event: Event) -> Snapshot:
    """An event's own fields, actors and programs, as the history records them."""
    links = session.execute(
        select(col(EventActor.actor_id), col(EventActor.role))
        .where(col(EventActor.event_id) == event.id)
        .order_by(col(EventActor.position))
    ).all()
    programs = session.execute(
        select(col(EventProgram.program_id))
        .where(col(EventProgram.event_id) == event.id)
        .order_by(col(EventProgram.program_id))
    ).scalars()
    snapshot = {name: _plain(getattr(event, name)) for name in EVENT_FIELDS}
    snapshot["actors"] = [f"{actor}:{role}" for actor, role in links]
    snapshot["programs"] = list(programs)
    return snapshot


def citation_snapshot(citation: Citation) -> Snapshot:
    return {name: _plain(getattr(citation, name)) for name in CITATION_FIELDS}


EVENT = Tracked(Entity.event, event_snapshot)
CITATION = Tracked(Entity.citation, lambda _, citation: citation_snapshot(citation))


def rebuild_derived(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the rows derived from these events (from every event when None): the search
    index, the year and reach rows and the stored documents, in the caller's transaction.
    For code outside this package that writes events' tables itself: the seed loader, the
    benchmark's datasets."""
    derived.refresh(session, event_ids)


def store_missing_documents(session: Session) -> int:
    """Store a document for each event that has none (stored before the table existed);
    returns how many."""
    return documents.store_missing(session)


def _resolve(kind: str, names: list[str], find: Any, suggest: Any, session: Session) -> list[str]:
    ids, errors = [], []
    for i, name in enumerate(names):
        found = find(session, name)
        if found is None:
            hints = suggest(session, name)
            hint = f" — did you mean {', '.join(repr(h) for h in hints)}?" if hints else ""
            errors.append(
                {
                    "loc": ["body", f"{kind}s", str(i)],
                    "msg": f"unknown {kind} '{name}'{hint}",
                    "type": "unknown_reference",
                    "input": name,
                    "suggestions": hints,
                }
            )
        else:
            ids.append(found)
    if errors:
        raise InvalidDataError("; ".join(e["msg"] for e in errors), errors=errors)
    return ids


def _set_links(
    session: Session, event_id: str, actors: list[ActorLinkIn], programs: list[str]
) -> None:
    actor_ids = _resolve("actor", [a.id for a in actors], find_actor_id, suggest_actors, session)
    program_ids = _resolve("program", programs, find_program_id, suggest_programs, session)
    pairs = list(dict.fromkeys(zip(actor_ids, (a.role.value for a in actors), strict=True)))
    session.execute(delete(EventActor).where(col(EventActor.event_id) == event_id))
    session.execute(delete(EventProgram).where(col(EventProgram.event_id) == event_id))
    session.flush()
    for position, (actor_id, role) in enumerate(pairs):
        session.add(EventActor(event_id=event_id, actor_id=actor_id, role=role, position=position))
    for program_id in dict.fromkeys(program_ids):
        session.add(EventProgram(event_id=event_id, program_id=program_id))


def _span_end(event: Event) -> None:
    event.span_end = period_end(event.end_date or event.start_date, Precision(event.date_precision))


def create_event(session: Session, data: EventCreate, *, author: str, reason: str | None) -> Event:
    """Add an event with its links and citations; 409 when its id is taken."""
    event_id = data.id or slugify(data.title, "event")
    if session.get(Event, event_id) is not None:
        raise ConflictError(f"an event with id '{event_id}' already exists", id=event_id)
    event = Event(id=event_id, updated_by=author, **data.model_dump(include=set(EVENT_FIELDS)))
    with recorded(session, EVENT, event, Action.create, author=author, reason=reason):
        _span_end(event)
        session.add(event)
        session.flush()
        _set_links(session, event_id, data.actors, data.programs)
    for position, cited in enumerate(data.citations):
        _add_citation(session, event, cited, position, author=author, reason=reason)
    derived.refresh(session, [event_id])
    return event


def update_event(
    session: Session, event: Event, data: EventUpdate, *, author: str, reason: str | None
) -> Event:
    """Apply the fields given; lists given replace the old ones."""
    with recorded(session, EVENT, event, Action.update, author=author, reason=reason) as step:
        _change_event(session, event, data)
    if step.revision is not None:
        derived.refresh(session, [event.id])
    return event


def _change_event(session: Session, event: Event, data: EventUpdate) -> None:
    changes = data.model_dump(exclude_unset=True, include=set(EVENT_FIELDS))
    for name, value in changes.items():
        if value is None and name not in ("end_date", "location"):
            raise InvalidDataError(
                f"{name} cannot be null",
                errors=[
                    {"loc": ["body", name], "msg": "cannot be null", "type": "null_not_allowed"}
                ],
            )
        setattr(event, name, value)
    problems = date_problems(event.start_date, event.end_date, Precision(event.date_precision))
    if problems:
        raise InvalidDataError("; ".join(problems))
    _span_end(event)
    if data.actors is not None or data.programs is not None:
        _set_links(
            session,
            event.id,
            data.actors if data.actors is not None else _links(session, event.id),
            data.programs if data.programs is not None else _programs(session, event.id),
        )


def _links(session: Session, event_id: str) -> list[ActorLinkIn]:
    rows = session.execute(
        select(col(EventActor.actor_id), col(EventActor.role))
        .where(col(EventActor.event_id) == event_id)
        .order_by(col(EventActor.position))
    ).all()
    return [ActorLinkIn.model_validate({"id": a, "role": r}) for a, r in rows]


def _programs(session: Session, event_id: str) -> list[str]:
    return list(
        session.execute(
            select(col(EventProgram.program_id)).where(col(EventProgram.event_id) == event_id)
        ).scalars()
    )


def delete_event(session: Session, event: Event, *, author: str, reason: str | None) -> None:
    """Delete an event and its citations, leaving tombstones in the history."""
    citations = (
        session.execute(select(Citation).where(col(Citation.event_id) == event.id)).scalars().all()
    )
    for citation in citations:
        _delete_citation(session, citation, author=author, reason=reason)
    with recorded(session, EVENT, event, Action.delete, author=author, reason=reason):
        session.delete(event)
    derived.refresh(session, [event.id])


def _add_citation(
    session: Session,
    event: Event,
    data: CitationCreate,
    position: int,
    *,
    author: str,
    reason: str | None,
) -> Citation:
    [source_id] = _resolve("source", [data.source_id], find_source_id, suggest_sources, session)
    citation = Citation(
        event_id=event.id,
        source_id=source_id,
        position=position,
        updated_by=author,
        **data.model_dump(include={"quote", "claimed_date", "claimed_date_precision", "note"}),
        claimed_date_qualifier=(
            (data.claimed_date_qualifier or ClaimQualifier.exact) if data.claimed_date else None
        ),
        claimed_date_inferred=bool(data.claimed_date_inferred) if data.claimed_date else None,
    )
    with recorded(
        session, CITATION, citation, Action.create, author=author, reason=reason, event_id=event.id
    ):
        session.add(citation)
    return citation


def add_citation(
    session: Session, event: Event, data: CitationCreate, *, author: str, reason: str | None
) -> Citation:
    """Cite one more source for an event."""
    last = session.execute(
        select(col(Citation.position))
        .where(col(Citation.event_id) == event.id)
        .order_by(col(Citation.position).desc())
        .limit(1)
    ).scalar()
    citation = _add_citation(session, event, data, (last or 0) + 1, author=author, reason=reason)
    touch(event, author)
    session.add(event)
    derived.refresh(session, [event.id])
    return citation


def update_citation(
    session: Session,
    event: Event,
    citation: Citation,
    data: CitationUpdate,
    *,
    author: str,
    reason: str | None,
) -> Citation:
    """Correct a quote, its source, claimed date or note."""
    with recorded(
        session, CITATION, citation, Action.update, author=author, reason=reason, event_id=event.id
    ) as step:
        _change_citation(session, citation, data)
    if step.revision is not None:
        touch(event, author)
        session.add(event)
        derived.refresh(session, [event.id])
    return citation


def _change_citation(session: Session, citation: Citation, data: CitationUpdate) -> None:
    changes = data.model_dump(exclude_unset=True, exclude={"reason"})
    if "source_id" in changes:
        if changes["source_id"] is None:
            raise InvalidDataError("source_id cannot be null")
        [changes["source_id"]] = _resolve(
            "source", [changes["source_id"]], find_source_id, suggest_sources, session
        )
    if "quote" in changes and not changes["quote"]:
        raise InvalidDataError("quote cannot be empty")
    for name, value in changes.items():
        setattr(citation, name, value)
    if (citation.claimed_date is None) != (citation.claimed_date_precision is None):
        raise InvalidDataError("claimed_date and claimed_date_precision go together")
    if citation.claimed_date is not None and citation.claimed_date_precision is not None:
        problems = date_problems(
            citation.claimed_date, None, Precision(citation.claimed_date_precision), "claimed_date"
        )
        if problems:
            raise InvalidDataError("; ".join(problems))
        citation.claimed_date_qualifier = citation.claimed_date_qualifier or ClaimQualifier.exact
        citation.claimed_date_inferred = bool(citation.claimed_date_inferred)
    else:
        citation.claimed_date_qualifier = None
        citation.claimed_date_inferred = None


def delete_citation(
    session: Session, event: Event, citation: Citation, *, author: str, reason: str | None
) -> None:
    """Remove a citation; an event keeps at least one."""
    count = session.execute(
        select(col(Citation.id)).where(col(Citation.event_id) == event.id).limit(2)
    ).all()
    if len(count) < 2:
        raise ConflictError(
            "an event needs at least one citation: add another before "
            "deleting this one, or delete the event"
        )
    _delete_citation(session, citation, author=author, reason=reason)
    touch(event, author)
    session.add(event)
    session.flush()
    derived.refresh(session, [event.id])


def _delete_citation(
    session: Session, citation: Citation, *, author: str, reason: str | None
) -> None:
    """Delete a citation, leaving a tombstone in its event's history."""
    with recorded(
        session,
        CITATION,
        citation,
        Action.delete,
        author=author,
        reason=reason,
        event_id=citation.event_id,
    ):
        session.delete(citation)
