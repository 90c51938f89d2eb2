"""Each event's JSON, stored at write time so a page of events is read rather than built.

Documents are built by `event_documents` (the same code the detail route uses) and refreshed
in the writer's transaction by every write that changes what an event shows: the event, its
links and citations (`derived.refresh`), and the actors, programs and sources it names. Only
`planned_date_passed` depends on the day: it is stored false, with the day after which it
turns true (`planned_end`), and set when the page is read.
"""

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from app.events.assembly import event_documents
from app.events.models import Citation, Event, EventActor, EventDocument, EventProgram

BATCH = 500
_NOT_PASSED = '"planned_date_passed":false'
_PASSED = '"planned_date_passed":true'
_NOT_PASSED_BYTES, _PASSED_BYTES = _NOT_PASSED.encode(), _PASSED.encode()


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), BATCH):
        yield list(ids[start : start + BATCH])


def store(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the stored documents of these events (of every event when None)."""
    if event_ids is None:
        session.execute(delete(EventDocument))
        ids: Sequence[str] = (
            session.execute(select(col(Event.id)).order_by(col(Event.id))).scalars().all()
        )
    else:
        ids = sorted(set(event_ids))
    columns = Event.__table__.c  # type: ignore[attr-defined]
    for batch in _batches(ids):
        if event_ids is not None:
            session.execute(delete(EventDocument).where(col(EventDocument.event_id).in_(batch)))
        events = session.execute(select(*columns).where(columns.id.in_(batch))).all()
        if not events:
            continue
        # Built as of the earliest day, when no planned date has passed yet.
        documents = event_documents(session, events, date.min)
        ends = {e.id: e.span_end if e.status == "planned" else None for e in events}
        session.execute(
            insert(EventDocument),
            [
                {
                    "event_id": d["id"],
                    "body": orjson.dumps(d).decode(),
                    "planned_end": ends[d["id"]],
                }
                for d in documents
            ],
        )


def store_missing(session: Session) -> int:
    """Build the documents no event has yet (after the migration that adds them)."""
    missing = (
        session.execute(
            select(col(Event.id))
            .outerjoin(EventDocument, col(EventDocument.event_id) == col(Event.id))
            .where(col(EventDocument.event_id).is_(None))
        )
        .scalars()
        .all()
    )
    if missing:
        store(session, missing)
    return len(missing)


def store_naming(
    session: Session,
    *,
    actor: str | None = None,
    program: str | None = None,
    source: str | None = None,
) -> None:
    """Rebuild the documents of the events that show this actor, program or source."""
    if actor is not None:
        query = select(col(EventActor.event_id)).where(col(EventActor.actor_id) == actor)
    elif program is not None:
        query = select(col(EventProgram.event_id)).where(col(EventProgram.program_id) == program)
    else:
        query = select(col(Citation.event_id)).where(col(Citation.source_id) == source)
    ids = session.execute(query.distinct()).scalars().all()
    if ids:
        store(session, ids)


def read(session: Session, event_id: str, today: date) -> dict[str, Any] | None:
    """The event's stored document as shown today, as a dictionary (serialised again, it is
    the same bytes); None when the event has none."""
    row = session.execute(
        select(col(EventDocument.body), col(EventDocument.planned_end)).where(
            col(EventDocument.event_id) == event_id
        )
    ).first()
    if row is None:
        return None
    body, planned_end = row
    document: dict[str, Any] = orjson.loads(body)
    # Stored as of the earliest day, when no planned date has passed yet.
    document["planned_date_passed"] = planned_end is not None and planned_end < today
    return document


def shown(body: str | bytes, planned_end: date | None, today: date) -> Any:
    """The stored document (text, or its UTF-8 bytes) as shown today, ready to embed in a
    response."""
    if planned_end is not None and planned_end < today:
        if isinstance(body, bytes):
            body = body.replace(_NOT_PASSED_BYTES, _PASSED_BYTES, 1)
        else:
            body = body.replace(_NOT_PASSED, _PASSED, 1)
    return orjson.Fragment(body)
