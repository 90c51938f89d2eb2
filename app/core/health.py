"""Liveness and readiness probes."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.database import DatabaseDep
from app.core.errors import NotReadyError
from app.core.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    schema_revision: str


@router.get("/healthz", operation_id="getHealth", summary="Liveness")
def healthz() -> Health:
    """Answers while the process runs, whatever the database does."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness",
    responses={503: {"description": "Database unreachable or schema not at the latest migration"}},
)
def readyz(database: DatabaseDep) -> Readiness:
    """Ready when the database answers and its schema is at the latest migration."""
    retry = {"Retry-After": str(database.settings.retry_after_seconds)}
    try:
        with database.engine.connect() as conn:
            revision = current_revision(conn)
    except (SQLAlchemyError, PoolTimeoutError, OSError):
        raise NotReadyError("the database is not reachable", headers=retry) from None
    head = head_revision()
    if revision != head:
        raise NotReadyError(
            f"the schema is at {revision or 'nothing'}, the code needs {head}", headers=retry
        )
    return Readiness(status="ready", schema_revision=revision or "")
