"""Rows derived from events — the search index, the year and reach indexes and the stored
documents — kept in step with them."""

from collections.abc import Sequence

from sqlmodel import Session

from app.events import documents
from app.events.reach import reindex_reach
from app.events.search import reindex
from app.events.years import reindex_years


def refresh(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the derived rows of these events (of all events when None), in the caller's
    transaction."""
    reindex(session, event_ids)
    reindex_years(session, event_ids)
    reindex_reach(session, event_ids)  # from the year rows
    documents.store(session, event_ids)
