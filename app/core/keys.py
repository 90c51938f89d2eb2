"""Secrets the service makes for itself: random on first start, kept in the database."""

import logging
import secrets

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from app.core.meta import AppSecret

log = logging.getLogger("app.keys")


def stored_secret(engine: Engine, name: str) -> str:
    """The secret called `name`, made (at random) and stored if there is none yet; when
    replicas race to make it, the first one stored wins and all use it."""
    with Session(engine) as session:
        row = session.get(AppSecret, name)
        if row is not None:
            return row.value
        session.add(AppSecret(name=name, value=secrets.token_urlsafe(32)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    with Session(engine) as session:
        stored = session.get(AppSecret, name)
        assert stored is not None, "a committed secret cannot vanish"
        return stored.value


def cursor_secret(app: FastAPI) -> str:
    """The key that signs pagination cursors when CURSOR_SECRET is not set: read from the
    database once per process (a failure is the request's 503, and it is read again)."""
    secret: str | None = getattr(app.state, "cursor_secret", None)
    if secret is None:
        secret = app.state.cursor_secret = stored_secret(app.state.database.engine, "cursor")
    return secret


def load_cursor_secret(app: FastAPI) -> None:
    """Read the cursor key at start-up, so no request waits for it; if the database cannot
    be read now, the first list request reads it instead."""
    if app.state.settings.cursor_secret:
        return
    try:
        cursor_secret(app)
    except SQLAlchemyError as exc:
        log.warning("cursor key not read at start-up: %s", type(exc).__name__)
