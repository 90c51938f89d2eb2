"""`/api/v1/sources`: the news articles behind the timeline."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.deps import AuthFirstRoute
from app.core.database import SessionDep
from app.core.deps import SettingsDep
from app.core.errors import NotFoundError
from app.core.http import DataETag, resource_response
from app.core.listing import ListQuery, after_id
from app.core.pagination import Page, Pager
from app.editing.routes import add_write_routes
from app.sources.models import Source, SourceDetail, SourcePublic
from app.sources.service import find_source_id, list_sources, source_detail
from app.sources.writes import (
    SourceCreate,
    SourceUpdate,
    create_source,
    delete_source,
    update_source,
)

router = APIRouter(prefix="/api/v1/sources", tags=["sources"], route_class=AuthFirstRoute)


def valid_source(
    session: SessionDep,
    source_id: Annotated[
        str,
        Path(
            description="The source's id or its document's file name.",
            examples=["003_8e854a67f184ff0b.txt"],
        ),
    ],
) -> Source:
    resolved = find_source_id(session, source_id)
    source = session.get(Source, resolved) if resolved else None
    if source is None:
        raise NotFoundError(f"no source with id or document file '{source_id}'")
    return source


@router.get("", operation_id="listSources", summary="List sources")
def get_sources(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _etag: DataETag,
    params: Annotated[ListQuery, Query()],
) -> Page[SourcePublic]:
    """News articles ordered by id; `q` searches titles and publishers."""
    pager = Pager(request, settings.cursor_secret, params.cursor, params.limit)
    items, total = list_sources(
        session, q=params.q, after_id=after_id(pager.after), limit=params.limit + 1
    )
    return pager.page_by_id(response, items, total)


@router.get(
    "/{source_id}", operation_id="getSource", summary="Get one source", response_model=SourceDetail
)
def get_source(
    request: Request, session: SessionDep, source: Annotated[Source, Depends(valid_source)]
) -> Response:
    """A source with its document checksum and every event it supports, with the quote."""
    return resource_response(request, source_detail(session, source))


add_write_routes(
    router,
    noun="source",
    example_id="russia-plans-to-leave-the-iss",
    row_type=Source,
    create_body=SourceCreate,
    update_body=SourceUpdate,
    public_type=SourceDetail,
    shown=source_detail,
    create=create_source,
    update=update_source,
    delete=delete_source,
)
