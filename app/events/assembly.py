"""Events as the API shows them: built from plain rows in three queries, straight to JSON.

The list and detail routes serialise these dictionaries with orjson without validating our
own output again; `EventPublic` documents their shape and a test holds them to it.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, true
from sqlmodel import Session, col

from app.actors.models import Actor
from app.core.dates import ClaimQualifier, Precision, Qualifier, date_label
from app.core.db import in_ids
from app.events.models import Citation, EventActor, EventProgram, EventPublic
from app.programs.models import Program
from app.sources.models import Source

Document = dict[str, Any]


def event_documents(
    session: Session, events: Sequence[Any], today: date, reported_on: date | None = None
) -> list[Document]:
    """Events (rows with the event's columns) with their actors, programs and citations.

    Three queries whatever the count; with `reported_on`, only citations from sources
    published by that day are shown.
    """
    ids = [e.id for e in events]
    dialect = session.get_bind().dialect.name
    # Core execution: plain tuples, without the ORM's result machinery.
    run = session.connection().execute
    actors: dict[str, list[Document]] = {i: [] for i in ids}
    for event_id, role, actor_id, name, kind in run(
        select(
            col(EventActor.event_id),
            col(EventActor.role),
            col(Actor.id),
            col(Actor.name),
            col(Actor.kind),
        )
        .join(Actor, col(Actor.id) == col(EventActor.actor_id))
        .where(in_ids(col(EventActor.event_id), ids, dialect))
        .order_by(col(EventActor.event_id), col(EventActor.position))
    ):
        actors[event_id].append({"id": actor_id, "name": name, "kind": kind, "role": role})
    programs: dict[str, list[Document]] = {i: [] for i in ids}
    for event_id, program_id, name in run(
        select(col(EventProgram.event_id), col(Program.id), col(Program.name))
        .join(Program, col(Program.id) == col(EventProgram.program_id))
        .where(in_ids(col(EventProgram.event_id), ids, dialect))
        .order_by(col(EventProgram.event_id), col(Program.id))
    ):
        programs[event_id].append({"id": program_id, "name": name})
    citations: dict[str, list[Document]] = {i: [] for i in ids}
    for row in run(
        select(
            col(Citation.event_id),
            col(Citation.id),
            col(Citation.quote),
            col(Citation.claimed_date),
            col(Citation.claimed_date_precision),
            col(Citation.claimed_date_qualifier),
            col(Citation.claimed_date_inferred),
            col(Citation.note),
            col(Source.id),
            col(Source.title),
            col(Source.publisher),
            col(Source.published_date),
            col(Source.published_date_precision),
            col(Source.published_date_estimated),
        )
        .join(Source, col(Source.id) == col(Citation.source_id))
        .where(in_ids(col(Citation.event_id), ids, dialect))
        .where(col(Source.published_until) <= reported_on if reported_on is not None else true())
        .order_by(col(Citation.event_id), col(Citation.position), col(Citation.id))
    ):
        citations[row[0]].append(_citation(row))
    return [_event(e, actors[e.id], programs[e.id], citations[e.id], today) for e in events]


def assemble(
    session: Session, events: Sequence[Any], today: date, reported_on: date | None = None
) -> list[EventPublic]:
    """The same events as validated models, for the renderers and the write routes."""
    return [
        EventPublic.model_validate(document)
        for document in event_documents(session, events, today, reported_on)
    ]


def _citation(row: Any) -> Document:
    (
        _,
        citation_id,
        quote,
        claimed,
        precision,
        qualifier,
        inferred,
        note,
        source_id,
        title,
        publisher,
        published,
        published_precision,
        estimated,
    ) = row
    label = None
    if claimed is not None and precision is not None:
        label = date_label(
            claimed, None, Precision(precision), ClaimQualifier(qualifier or "exact")
        )
    return {
        "quote": quote,
        "claimed_date": claimed,
        "claimed_date_precision": precision,
        "claimed_date_qualifier": qualifier,
        "claimed_date_inferred": None if inferred is None else bool(inferred),
        "note": note,
        "id": citation_id,
        "claimed_date_label": label,
        "source": {
            "id": source_id,
            "title": title,
            "publisher": publisher,
            "published_date": published,
            "published_date_precision": published_precision,
            "published_date_estimated": bool(estimated),
        },
    }


def date_claims(citations: Sequence[Document]) -> list[Document]:
    """Each distinct date the citations claim, with the sources claiming it."""
    claims: dict[tuple[date, str, str], Document] = {}
    for c in citations:
        if c["claimed_date"] is None or c["claimed_date_precision"] is None:
            continue
        qualifier = c["claimed_date_qualifier"] or "exact"
        key = (c["claimed_date"], c["claimed_date_precision"], qualifier)
        claim = claims.get(key)
        if claim is None:
            claim = claims[key] = {
                "label": c["claimed_date_label"] or "",
                "date": c["claimed_date"],
                "precision": c["claimed_date_precision"],
                "qualifier": qualifier,
                "source_ids": [],
                "citation_ids": [],
            }
        if c["source"]["id"] not in claim["source_ids"]:
            claim["source_ids"].append(c["source"]["id"])
        claim["citation_ids"].append(c["id"])
    return sorted(claims.values(), key=lambda claim: (claim["date"], claim["label"]))


def _event(
    event: Any,
    actors: list[Document],
    programs: list[Document],
    citations: list[Document],
    today: date,
) -> Document:
    """An event as the API shows it, with everything derived from its rows."""
    claims = date_claims(citations)
    label = date_label(
        event.start_date,
        event.end_date,
        Precision(event.date_precision),
        Qualifier(event.date_qualifier),
    )
    return {
        "id": event.id,
        "title": event.title,
        "summary": event.summary,
        "start_date": event.start_date,
        "end_date": event.end_date,
        "date_precision": event.date_precision,
        "date_qualifier": event.date_qualifier,
        "date_source": event.date_source,
        "status": event.status,
        "kind": event.kind,
        "location": event.location,
        "date_label": label,
        "disputed": len(claims) > 1,
        "planned_date_passed": event.status == "planned" and event.span_end < today,
        "source_count": len({c["source"]["id"] for c in citations}),
        "date_claims": claims,
        "actors": actors,
        "programs": programs,
        "citations": citations,
    }
