"""Idempotency-Key on POST: the first answer is replayed for 24 hours (SPEC §9)."""

import hashlib
from datetime import datetime, timedelta

import orjson
from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import DateTime, LargeBinary, delete
from sqlmodel import Field, Session, SQLModel, col

from app.core.errors import ProblemError
from app.core.models import utcnow

KEEP_FOR = timedelta(hours=24)


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    token_id: int = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status: int
    location: str | None = Field(default=None, max_length=500)
    etag: str | None = Field(default=None, max_length=100)
    body: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), index=True
    )


class KeyReusedError(ProblemError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused"


def request_hash(request: Request, body: BaseModel) -> str:
    """What makes two requests "the same": method, path and the parsed body."""
    payload = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + payload).hexdigest()


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200:
        raise KeyReusedError("an Idempotency-Key must be 1 to 200 characters")
    return key


def replay(session: Session, token_id: int, key: str, digest: str) -> Response | None:
    """The stored answer for this key, or None when the key is new (or expired)."""
    stored = session.get(IdempotencyKey, (token_id, key))
    if stored is None:
        return None
    created = (
        stored.created_at
        if stored.created_at.tzinfo
        else stored.created_at.replace(tzinfo=utcnow().tzinfo)
    )
    if created < utcnow() - KEEP_FOR:
        session.delete(stored)
        session.flush()
        return None
    if stored.request_hash != digest:
        raise KeyReusedError(
            f"Idempotency-Key '{key}' was already used with a different request; use a new key"
        )
    headers = {"Idempotency-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    if stored.etag:
        headers["ETag"] = stored.etag
    return Response(
        stored.body, status_code=stored.status, media_type="application/json", headers=headers
    )


def remember(session: Session, token_id: int, key: str, digest: str, response: Response) -> None:
    """Store the answer in the write's own transaction, and forget keys older than 24 h."""
    session.execute(
        delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < utcnow() - KEEP_FOR)
    )
    session.add(
        IdempotencyKey(
            token_id=token_id,
            key=key,
            request_hash=digest,
            status=response.status_code,
            location=response.headers.get("location"),
            etag=response.headers.get("etag"),
            body=bytes(response.body),
        )
    )
    session.flush()
