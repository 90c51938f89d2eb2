"""Rows derived from events — the search index, the year and reach indexes and the stored
documents — kept in step with the events, and with the actors, programs and sources they name.

Events' own writes refresh these rows themselves (`refresh`). Writes of actors, programs and
sources know nothing of them: each records a revision, and `follow`, which the history tells
of every revision (registered in app/events/__init__.py), rebuilds what depends on it.
"""

from collections.abc import Sequence

from sqlmodel import Session

from app.actors.service import descendant_ids
from app.events import documents
from app.events.reach import reindex_actors, reindex_reach
from app.events.search import reindex
from app.events.years import reindex_years
from app.history.models import Action, Entity, Revision


def refresh(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the derived rows of these events (of all events when None), in the caller's
    transaction."""
    reindex(session, event_ids)
    reindex_years(session, event_ids)
    reindex_reach(session, event_ids)  # from the year rows
    documents.store(session, event_ids)


def follow(session: Session, revision: Revision) -> None:
    """Rebuild what shows the actor, program or source this revision changed, in the writer's
    transaction: the documents of the events naming it and, when an actor moved in the
    hierarchy, the reach rows of the events of the actors below it."""
    # A new actor, program or source is named by no event yet, and a deleted one by none
    # any more (deleting one still named is refused).
    if revision.action != Action.update:
        return
    if revision.entity == Entity.actor:
        documents.store_naming(session, actor=revision.entity_id)
        if "parent_id" in revision.changes:
            reindex_actors(session, sorted(descendant_ids(session, [revision.entity_id])))
    elif revision.entity == Entity.program:
        documents.store_naming(session, program=revision.entity_id)
    elif revision.entity == Entity.source:
        documents.store_naming(session, source=revision.entity_id)
