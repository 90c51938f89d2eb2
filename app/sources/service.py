"""Queries on sources: lookup by id or document file, lists and details."""

from collections.abc import Sequence

from sqlalchemy import column, func, or_, select, table
from sqlmodel import Session, col

from app.core.names import suggest
from app.sources.models import (
    Source,
    SourceCitation,
    SourceDetail,
    SourceDocument,
    SourcePublic,
)

# Events build on sources, not the reverse: their tables are named here, not imported.
_citation = table(
    "citation",
    column("id"),
    column("event_id"),
    column("source_id"),
    column("quote"),
    column("note"),
    column("position"),
)
_event = table("event", column("id"), column("title"), column("start_date"))


def find_source_id(session: Session, name: str) -> str | None:
    """The id of the source with this id or document file name."""
    key = name.strip()
    return session.execute(
        select(col(Source.id)).where(
            or_(col(Source.id) == key.lower(), col(Source.document_file) == key)
        )
    ).scalar_one_or_none()


def suggest_sources(session: Session, name: str) -> list[str]:
    rows = session.execute(select(col(Source.id), col(Source.document_file))).all()
    pairs = [(i, i) for i, _ in rows] + [(f, i) for i, f in rows if f]
    return suggest(name, pairs)


def to_public(source: Source) -> SourcePublic:
    document = None
    if source.document_file and source.document_sha256:
        document = SourceDocument(file=source.document_file, sha256=source.document_sha256)
    fields = {
        name: getattr(source, name) for name in SourcePublic.model_fields if name != "document"
    }
    return SourcePublic.model_validate({**fields, "document": document})


def list_sources(
    session: Session, *, q: str | None, after_id: str | None, limit: int
) -> tuple[list[SourcePublic], int]:
    query = select(Source)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            func.lower(col(Source.title)).like(pattern)
            | func.lower(col(Source.publisher)).like(pattern)
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if after_id is not None:
        query = query.where(col(Source.id) > after_id)
    sources: Sequence[Source] = (
        session.execute(query.order_by(col(Source.id)).limit(limit)).scalars().all()
    )
    return [to_public(s) for s in sources], total


def source_detail(session: Session, source: Source) -> SourceDetail:
    rows = session.execute(
        select(
            _citation.c.id,
            _citation.c.event_id,
            _event.c.title,
            _citation.c.quote,
            _citation.c.note,
        )
        .join(_event, _event.c.id == _citation.c.event_id)
        .where(_citation.c.source_id == source.id)
        .order_by(_event.c.start_date, _event.c.id, _citation.c.position)
    ).all()
    citations = [
        SourceCitation(citation_id=r[0], event_id=r[1], event_title=r[2], quote=r[3], note=r[4])
        for r in rows
    ]
    return SourceDetail(**to_public(source).model_dump(), citations=citations)
