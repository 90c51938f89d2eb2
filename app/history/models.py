"""The revision history: every create, update and delete, with who, when, what and why."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, DateTime, Index
from sqlmodel import Field, SQLModel

from app.core.models import utcnow


class Entity(StrEnum):
    event = "event"
    citation = "citation"
    actor = "actor"
    program = "program"
    source = "source"


class Action(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


class Revision(SQLModel, table=True):
    __table_args__ = (
        Index("ix_revision_entity_entity_id", "entity", "entity_id", "id"),
        Index("ix_revision_event_id", "event_id", "id"),
        Index("ix_revision_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=20)
    entity_id: str = Field(max_length=120)
    event_id: str | None = Field(
        default=None, max_length=120, description="The event a citation belongs to."
    )
    action: str = Field(max_length=10)
    author: str = Field(max_length=100, description="Token name, or `seed`.")
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    reason: str | None = Field(default=None, max_length=1000)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class FieldChange(SQLModel):
    before: Any
    after: Any


class RevisionPublic(SQLModel):
    """One recorded change. A `delete` is a tombstone: `changes` holds what was removed."""

    id: int
    entity: Entity
    entity_id: str
    event_id: str | None
    action: Action
    author: str = Field(description="Name of the editor's token, or `seed`.")
    at: datetime
    reason: str | None
    changes: dict[str, FieldChange]

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # SQLite returns timestamps without their zone; they are stored in UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
