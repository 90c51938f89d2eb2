"""API tokens: only their hashes are stored."""

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from app.core.models import utcnow


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    token_hash: str = Field(max_length=64, unique=True, description="SHA-256 of the token.")
    prefix: str = Field(max_length=12, description="The token's first characters, to tell it.")
    scopes: str = Field(max_length=200, default="editor", description="Space-separated scopes.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
