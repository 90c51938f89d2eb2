"""`/api/v1/changes`: the corrections feed, for mirrors and readers."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.core.database import SessionDep
from app.core.dates import IsoDateTime
from app.core.deps import SettingsDep
from app.core.http import DataETag
from app.core.listing import CURSOR_HELP, after_serial
from app.core.pagination import Page, Pager
from app.history.models import Entity, RevisionPublic
from app.history.service import changes_since

router = APIRouter(prefix="/api/v1", tags=["history"])


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: IsoDateTime | None = Field(
        default=None,
        description="Only changes at or after this moment (ISO 8601, e.g. 2026-11-01T00:00:00Z).",
        examples=["2026-01-01T00:00:00Z"],
    )
    entity: Entity | None = Field(
        default=None, description="Only changes to this kind of record.", examples=["event"]
    )
    limit: int = Field(default=50, ge=1, le=200, description="Changes per page.", examples=[50])
    cursor: str | None = Field(default=None, min_length=1, description=CURSOR_HELP)


@router.get("/changes", operation_id="listChanges", summary="The corrections feed")
def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _etag: DataETag,
    params: Annotated[ChangesQuery, Query()],
) -> Page[RevisionPublic]:
    """Every create, update and delete — deletions as tombstones — with who, when, what and
    why, oldest first. Mirrors sync by following `next_cursor`, then polling with `since`."""
    pager = Pager(request, settings.cursor_secret, params.cursor, params.limit)
    after_id = after_serial(pager.after)
    items, total = changes_since(
        session,
        since=params.since,
        entity=params.entity,
        after_id=after_id,
        limit=params.limit + 1,
    )
    return pager.page_by_id(response, items, total)
