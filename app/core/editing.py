"""What every write shares: one transaction, the change reason, idempotent replays."""

import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from app.core.errors import ConflictError, ProblemError, is_transaction_conflict
from app.core.idempotency import idempotency_key, remember, replay, request_hash
from app.core.models import utcnow

log = logging.getLogger("app.editing")


class WriteModel(BaseModel):
    """A request body: unknown fields are refused, text is trimmed, NUL characters refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000; SQLite could, so both refuse it alike.
        if _has_nul(value):
            raise ValueError("text may not contain NUL characters (U+0000)")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def never_null(schema: dict[str, Any]) -> None:
    """Schema of an update field that may be left out but not sent as null (422 if it is)."""
    options = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    schema.pop("default", None)


REASON_HELP = "Why the change was made; shown in the history (or send X-Change-Reason)."
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def touch(row: Any, author: str) -> None:
    """Mark a row as changed by `author`: new version, new timestamp."""
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = author


ColumnLike = ColumnElement[Any] | Mapped[Any]


def referrers(session: Session, key: ColumnLike, column: ColumnLike, value: str) -> list[str]:
    """Each `key`, once and in order, of the rows whose `column` is `value`: what still refers
    to a row about to be deleted."""
    query = select(key).where(column == value).distinct().order_by(key)
    return list(session.execute(query).scalars())


class InvalidDataError(ProblemError):
    """The request is well-formed but its data is inconsistent (bad dates, unknown ids…)."""

    status = 422
    slug = "invalid-data"
    title = "Invalid data"


def change_reason(request: Request, body: BaseModel | None = None) -> str | None:
    """Why the change was made: the `reason` body field, else the X-Change-Reason header."""
    reason = getattr(body, "reason", None) or header_text(request, "x-change-reason")
    return reason.strip()[:1000] or None if reason else None


class InvalidHeaderError(ProblemError):
    status = 400
    slug = "invalid-header"
    title = "Invalid header"


_EXT_VALUE = re.compile(r"(?i)utf-8'[a-z0-9-]*'(?P<text>.*)")


def header_text(request: Request, name: str) -> str | None:
    """A header's text: printable ASCII as sent, or UTF-8 written as an RFC 8187 ext-value
    (`UTF-8''%C3%A9t%C3%A9`). Raw bytes outside ASCII are refused (400): HTTP gives them no
    charset, and read as Latin-1 they would be stored as mojibake."""
    value = request.headers.get(name)
    if value is None:
        return None
    if not all(" " <= char <= "~" or char == "\t" for char in value):
        raise InvalidHeaderError(
            f"{name} must be printable ASCII; write other text as UTF-8''<percent-encoded "
            "UTF-8> (RFC 8187), or send it in the body's `reason` field"
        )
    encoded = _EXT_VALUE.fullmatch(value.strip())
    if encoded is None:
        return value
    try:
        text = unquote(encoded["text"], encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidHeaderError(f"{name}: the percent-encoded bytes are not UTF-8") from None
    if _has_nul(text):
        raise InvalidHeaderError(f"{name} may not contain NUL characters")
    return text


def commit_write(
    request: Request,
    session: Session,
    token_id: int,
    action: Callable[[], Response],
    *,
    body: BaseModel | None = None,
    relock: Callable[[], object] | None = None,
) -> Response:
    """Run a write and commit it as one transaction; replay it for a reused Idempotency-Key
    (keys are per token: `token_id` is the editor's).

    Any exception before the commit leaves the database as it was. When the database
    aborts the transaction for colliding with another one (a deadlock, a serialization
    failure), the write is run again from the start, up to `WRITE_ATTEMPTS` times, then
    answered 409; `relock` first takes again the locks a dependency took before `action`.
    """
    key = idempotency_key(request) if request.method == "POST" else None
    digest = request_hash(request, body) if key and body is not None else ""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        if key:
            replayed = replay(session, token_id, key, digest)
            if replayed is not None:
                return replayed
        try:
            return _attempt(request, session, token_id, action, key, digest)
        except DBAPIError as exc:
            session.rollback()
            if not is_transaction_conflict(exc):
                raise
            log.info("write collided", extra={"attempt": attempt, "path": request.url.path})
        if attempt < WRITE_ATTEMPTS:
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not secrecy
            if relock is not None:
                relock()
    raise ConflictError(
        "concurrent changes kept colliding with this one; retry it",
        headers={"Retry-After": "1"},
    )


WRITE_ATTEMPTS = 4


def _attempt(
    request: Request,
    session: Session,
    token_id: int,
    action: Callable[[], Response],
    key: str | None,
    digest: str,
) -> Response:
    try:
        # On PostgreSQL a concurrent insert of the same row (the same event id, or the same
        # key sent twice at once) blocks until the other commits, then fails here, in the
        # write's own flushes: a conflict or a replay, not a 500.
        response = action()
        if key:
            remember(session, token_id, key, digest, response)
        session.commit()
    except (IntegrityError, ConflictError) as exc:
        session.rollback()
        # A concurrent request with the same key may have committed after the replay check
        # above: its row then fails our insert, or our own check finds its event and says
        # 409. Either way this request is that one, sent again: answer as it did.
        if key and (replayed := replay(session, token_id, key, digest)) is not None:
            return replayed
        if isinstance(exc, ConflictError):
            raise
        raise ConflictError("a concurrent change conflicts with this one; retry it") from None
    return response
