"""`/api/v1/timeline` and the exports `/api/v1/events.{csv,ndjson,ics,jsonld}`."""

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlmodel import Session

from app.core.deps import SettingsDep
from app.core.http import DataETag
from app.core.versioning import last_changed
from app.events.deps import EventFilterParams
from app.events.filters import EventListQuery
from app.events.router import list_response, today
from app.events.service import ResolvedFilters, iter_events, resolve_filters
from app.timeline.timelinejs import render_timelinejs
from app.timeline.views import (
    MEDIA_TYPES,
    ExportFormat,
    TimelineJSDocument,
    TimelinePage,
    renderer,
)

router = APIRouter(prefix="/api/v1", tags=["timeline"])


class TimelineQuery(EventListQuery):
    format: Literal["json", "timelinejs"] = Field(
        default="json",
        description=(
            "`json`: a page of events grouped by start year. `timelinejs`: every matching "
            "event as Knight Lab TimelineJS JSON, ready for its embed."
        ),
        examples=["json"],
    )


@router.get(
    "/timeline",
    operation_id="getTimeline",
    summary="Events grouped by year",
    response_model=TimelinePage | TimelineJSDocument,
)
def get_timeline(
    request: Request,
    response: Response,
    etag: DataETag,
    params: Annotated[TimelineQuery, Query()],
) -> Response:
    """The filtered events grouped by the year they start in, paginated like the list;
    or, with `format=timelinejs`, all of them as a TimelineJS document."""
    # Read like the list: in the route's one thread-pool call, on the engine that reads
    # without a transaction of its own on PostgreSQL (app/events/fastlist.py answers the
    # plain cases before this route).
    engine = request.app.state.read_engine
    if params.format == "json":
        return list_response(request, response, params, engine, by_year=True)
    with Session(engine) as session:
        filters = resolve_filters(session, params)
        body = render_timelinejs(iter_events(session, filters, today=today()))
    return Response(body, media_type=MEDIA_TYPES["timelinejs"], headers=response.headers)


def _stream(
    session: Session, filters: ResolvedFilters, name: ExportFormat, base_url: str
) -> Iterator[bytes]:
    """Render every match while the session stays open; the session closes at the end."""
    with session:
        render = renderer(name, changed=last_changed(session), base_url=base_url)
        yield from render(iter_events(session, filters, today=today()))


def _export(name: ExportFormat, summary: str, description: str) -> None:
    def export(
        request: Request,
        response: Response,
        settings: SettingsDep,
        etag: DataETag,
        params: EventFilterParams,
    ) -> StreamingResponse:
        session = Session(request.app.state.engine)
        try:
            filters = resolve_filters(session, params)
        except Exception:
            session.close()
            raise
        headers = dict(response.headers)
        if name in ("csv", "ics"):
            headers["Content-Disposition"] = f'attachment; filename="events.{name}"'
        base_url = str(request.base_url).rstrip("/")
        return StreamingResponse(
            _stream(session, filters, name, base_url),
            media_type=MEDIA_TYPES[name],
            headers=headers,
        )

    router.add_api_route(
        f"/events.{name}",
        export,
        methods=["GET"],
        operation_id=f"exportEvents{name.capitalize()}",
        summary=summary,
        description=description + " Same filters as the list; every match, no paging.",
        response_class=StreamingResponse,
        responses={200: {"content": {MEDIA_TYPES[name].split(";")[0]: {}}}},
    )


_export("csv", "Export as CSV", "One row per event; actors, programs and sources `;`-joined.")
_export("ndjson", "Export as NDJSON", "One JSON event per line.")
_export("ics", "Export as iCalendar", "All-day entries to each event's precision.")
_export("jsonld", "Export as JSON-LD", "schema.org `Event`s with their articles as `NewsArticle`.")
