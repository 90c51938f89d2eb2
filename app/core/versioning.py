"""The data version: one counter every write bumps, read once per request by caches."""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from app.core.meta import DataVersion
from app.core.models import utcnow


def bump_data_version(session: Session) -> None:
    """Record that the data changed, in the caller's transaction."""
    session.execute(
        update(DataVersion)
        .where(col(DataVersion.id) == 1)
        .values(version=col(DataVersion.version) + 1, changed_at=utcnow())
    )


def last_changed(connection: Connection | Session) -> datetime:
    """When the data last changed (the migration's time before any load)."""
    changed = connection.execute(
        select(col(DataVersion.changed_at)).where(col(DataVersion.id) == 1)
    ).scalar_one_or_none()
    return changed or datetime(2000, 1, 1, tzinfo=UTC)


def read_data_version(connection: Connection | Session) -> int:
    """The current data version (0 before anything was loaded)."""
    return (
        connection.execute(
            select(col(DataVersion.version)).where(col(DataVersion.id) == 1)
        ).scalar_one_or_none()
        or 0
    )
