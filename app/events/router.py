"""`/api/v1/events`: the filtered, paginated timeline, its facets, and single events."""

from fastapi import APIRouter, Request, Response

from app.core.database import SessionDep
from app.core.dates import today
from app.core.errors import NotFoundError
from app.core.http import resource_response
from app.core.pagination import Page
from app.core.routing import QueryModelRoute
from app.events.assembly import event_documents
from app.events.deps import EventFilterParams, EventListParams, EventViewParams, ValidEvent
from app.events.facets import Facets
from app.events.models import EventPublic
from app.events.reader import EventReader

router = APIRouter(prefix="/api/v1/events", tags=["events"], route_class=QueryModelRoute)


@router.get(
    "",
    operation_id="listEvents",
    summary="List events",
    response_description="A page of events, oldest first unless sorted otherwise.",
    response_model=Page[EventPublic],
)
async def list_events(request: Request, params: EventListParams) -> Response:
    """Events matching every filter given, each with its actors, programs and citations.

    Follow `next_cursor` (or the `Link: rel="next"` header) for the next page.
    """
    return await EventReader.of(request).page(request, params)


@router.get(
    "/facets",
    operation_id="getEventFacets",
    summary="Count events by facet",
    response_model=Facets,
)
async def get_facets(request: Request, params: EventFilterParams) -> Response:
    """For the same filters as the list: how many events each year, actor, program, kind and
    status would give if you added it as a filter."""
    return await EventReader.of(request).facets(request, params)


@router.get(
    "/{event_id}",
    operation_id="getEvent",
    summary="Get one event",
    response_model=EventPublic,
    responses={304: {"description": "Not modified since the ETag you sent"}},
)
def get_event(
    request: Request, session: SessionDep, event: ValidEvent, params: EventViewParams
) -> Response:
    """One event with its actors and roles, programs, and every citation with its source."""
    shown = event_documents(session, [event], today(), params.as_reported_on)[0]
    if params.as_reported_on is not None and not shown["citations"]:
        raise NotFoundError(
            f"event '{event.id}' had not been reported by {params.as_reported_on.isoformat()}"
        )
    return resource_response(request, shown)
