"""`/api/v1/timeline` and the exports `/api/v1/events.{csv,ndjson,ics,jsonld}`."""

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlmodel import Session

from app.core.routing import QueryModelRoute
from app.core.versioning import last_changed
from app.events.deps import EventFilterParams
from app.events.filters import EventListQuery
from app.events.models import EventPublic
from app.events.reader import EventReader
from app.timeline.timelinejs import render_timelinejs
from app.timeline.views import (
    MEDIA_TYPES,
    ExportFormat,
    TimelineJSDocument,
    TimelinePage,
    renderer,
)

router = APIRouter(prefix="/api/v1", tags=["timeline"], route_class=QueryModelRoute)


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
async def get_timeline(request: Request, params: Annotated[TimelineQuery, Query()]) -> Response:
    """The filtered events grouped by the year they start in, paginated like the list;
    or, with `format=timelinejs`, all of them as a TimelineJS document."""
    reader = EventReader.of(request)
    if params.format == "json":
        return await reader.page(request, params, by_year=True)
    return await reader.render_all(request, params, render_timelinejs, MEDIA_TYPES["timelinejs"])


def _export(name: ExportFormat, summary: str, description: str) -> None:
    async def export(request: Request, params: EventFilterParams) -> StreamingResponse:
        base_url = str(request.base_url).rstrip("/")

        def render(session: Session, events: Iterator[EventPublic]) -> Iterator[bytes]:
            return renderer(name, changed=last_changed(session), base_url=base_url)(events)

        response, body = await EventReader.of(request).stream(request, params, render)
        headers = dict(response.headers)
        if name in ("csv", "ics"):
            headers["Content-Disposition"] = f'attachment; filename="events.{name}"'
        return StreamingResponse(body, media_type=MEDIA_TYPES[name], headers=headers)

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
