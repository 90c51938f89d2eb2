"""What every table shares: the constraint naming convention and row bookkeeping."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeEngine
from sqlmodel import AutoString, Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class RowMeta(SQLModel):
    """Version and audit columns: `version` feeds the row's ETag and optimistic locking."""

    version: int = Field(default=1, nullable=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=True
    )
    updated_by: str = Field(default="seed", max_length=100, nullable=False)


def enum_check(column: str, values: list[str]) -> str:
    """SQL for a CHECK constraint that keeps a text column within an enumeration."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Identified(SQLModel):
    """Mixed in last so that `id` is the first field of public models."""

    id: str


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC, as stored (a moment without a zone is taken as UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def bytewise(length: int | None = None) -> TypeEngine[str]:
    """Text that sorts and compares byte by byte on both databases, for ids and keys that
    order lists and bound keyset pages: SQLite's default collation (BINARY) does already;
    PostgreSQL's default follows the locale (en_US sorts `russian-…` before `russia-…`),
    so there the column gets the "C" collation (migration 0009)."""
    return AutoString(length).with_variant(AutoString(length, collation="C"), "postgresql")
