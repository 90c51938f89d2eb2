"""Recording revisions, and reading the history of an event and the corrections feed.

Every write records what it changed here, in its own transaction; packages that keep rows
derived from other packages' rows follow those records (`follow`) rather than being called
by each writer.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.core.editing import touch
from app.core.models import as_utc
from app.core.versioning import bump_data_version
from app.history.models import Action, Entity, Revision, RevisionPublic

Snapshot = dict[str, Any]
Follower = Callable[[Session, Revision], None]

_followers: list[Follower] = []


def follow(follower: Follower) -> None:
    """Tell `follower` of every revision recorded from now on, in the writer's transaction and
    after the change was flushed. Registering a follower twice registers it once."""
    if follower not in _followers:
        _followers.append(follower)


def followers() -> tuple[Follower, ...]:
    return tuple(_followers)


@dataclass(frozen=True)
class Tracked:
    """A kind of row whose changes the history records: its entity, and its snapshot (what a
    revision compares)."""

    entity: Entity
    snapshot: Callable[[Session, Any], Snapshot]


@dataclass
class Step:
    """What a recorded write did: its revision, or None when nothing changed."""

    revision: Revision | None = None


def diff(before: Snapshot | None, after: Snapshot | None) -> dict[str, dict[str, Any]]:
    """Before and after of every field that differs (all fields for a create or delete)."""
    before, after = before or {}, after or {}
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    session: Session,
    *,
    entity: Entity,
    entity_id: str,
    before: Snapshot | None,
    after: Snapshot | None,
    author: str,
    reason: str | None = None,
    event_id: str | None = None,
) -> Revision | None:
    """Record one change in the caller's transaction, bump the data version and tell the
    followers.

    Returns None (and records nothing) when nothing changed.
    """
    changes = diff(before, after)
    if not changes:
        return None
    action = Action.create if before is None else Action.delete if after is None else Action.update
    revision = Revision(
        entity=entity,
        entity_id=entity_id,
        event_id=event_id
        if event_id is not None
        else (entity_id if entity is Entity.event else None),
        action=action,
        author=author,
        reason=reason,
        changes=changes,
    )
    session.add(revision)
    bump_data_version(session)
    for follower in _followers:
        follower(session, revision)
    return revision


@contextmanager
def recorded(
    session: Session,
    tracked: Tracked,
    row: Any,
    action: Action,
    *,
    author: str,
    reason: str | None,
    event_id: str | None = None,
) -> Iterator[Step]:
    """Record the change the `with` block makes to `row`, the steps every write takes: take a
    snapshot (unless the block creates the row), let the block change the row, flush, record
    the difference, and give an updated row that did change a new version by `author`.

    Nothing is recorded when the block raises.
    """
    before = None if action is Action.create else tracked.snapshot(session, row)
    step = Step()
    yield step
    session.flush()
    step.revision = record(
        session,
        entity=tracked.entity,
        entity_id=str(row.id),
        before=before,
        after=None if action is Action.delete else tracked.snapshot(session, row),
        author=author,
        reason=reason,
        event_id=event_id,
    )
    if step.revision is not None and action is Action.update:
        touch(row, author)
        session.add(row)


def to_public(revision: Revision) -> RevisionPublic:
    return RevisionPublic.model_validate(revision, from_attributes=True)


def event_history(
    session: Session, event_id: str, *, after_id: int | None, limit: int
) -> tuple[list[RevisionPublic], int]:
    """Revisions of an event and of its citations, oldest first, and how many there are."""
    query = select(Revision).where(col(Revision.event_id) == event_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if after_id is not None:
        query = query.where(col(Revision.id) > after_id)
    rows = session.execute(query.order_by(col(Revision.id)).limit(limit)).scalars()
    return [to_public(r) for r in rows], total


def has_history(session: Session, event_id: str) -> bool:
    query = select(col(Revision.id)).where(col(Revision.event_id) == event_id).limit(1)
    return session.execute(query).first() is not None


def changes_since(
    session: Session,
    *,
    since: datetime | None,
    entity: Entity | None,
    after_id: int | None,
    limit: int,
) -> tuple[list[RevisionPublic], int]:
    """The corrections feed: every revision, oldest first, from `since` on; and the count."""
    query = select(Revision)
    if since is not None:
        query = query.where(col(Revision.at) >= as_utc(since))
    if entity is not None:
        query = query.where(col(Revision.entity) == entity)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if after_id is not None:
        query = query.where(col(Revision.id) > after_id)
    rows = session.execute(query.order_by(col(Revision.id)).limit(limit)).scalars()
    return [to_public(r) for r in rows], total
