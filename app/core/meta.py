"""Bookkeeping tables that are not part of the domain."""

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from app.core.models import utcnow


class SeedRecord(SQLModel, table=True):
    """What the seed loader last wrote for a record, so reloads respect editors' changes."""

    __tablename__ = "seed_record"

    kind: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=120)
    digest: str = Field(max_length=64)
    row_version: int
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class DataVersion(SQLModel, table=True):
    """One row counting every change to the data: caches and list ETags are keyed by it."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class AppSecret(SQLModel, table=True):
    """A secret the service made for itself on first start (the cursor signing key), kept
    here so that every worker and replica uses the same one."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
