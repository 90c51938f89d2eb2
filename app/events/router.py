"""`/api/v1/events`: the filtered, paginated timeline, its facets, and single events."""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.cache import LRU
from app.core.db import SessionDep
from app.core.errors import InvalidCursorError, NotFoundError
from app.core.http import DataETag, json_response, resource_response
from app.core.pagination import Page, Pager
from app.events import documents
from app.events.assembly import event_documents
from app.events.deps import EventFilterParams, EventListParams, EventViewParams, ValidEvent
from app.events.facets import Facets, facets
from app.events.filters import EventFilters, EventListQuery
from app.events.models import EventPublic
from app.events.service import (
    ResolvedFilters,
    count_events,
    page_of_documents,
    page_of_events,
    resolve_filters,
)

router = APIRouter(prefix="/api/v1/events", tags=["events"])


def today() -> date:
    return datetime.now(UTC).date()


_NOT_FILTERS = {"cursor", "limit", "sort", "format"}


def _filter_key(request: Request) -> tuple[Any, ...]:
    return tuple(sorted(p for p in request.query_params.multi_items() if p[0] not in _NOT_FILTERS))


def cached_count(request: Request, count: Callable[[], int]) -> int:
    """`total` for these filters, counted once per data version (pages, sorts, the list and
    the timeline share it)."""
    version = getattr(request.state, "data_version", None)
    if version is None:
        return count()
    counts: LRU[int] = request.app.state.count_cache
    return counts.get_or_make((version, _filter_key(request)), count)


def cached_filters(request: Request, session: Session, params: EventFilters) -> ResolvedFilters:
    """The filters with names resolved to ids, once per data version: which actors an actor
    includes, and how to query them, changes only when the data does."""
    version = getattr(request.state, "data_version", None)
    if version is None:
        return resolve_filters(session, params)
    resolved: LRU[ResolvedFilters] = request.app.state.filter_cache
    return resolved.get_or_make(
        (version, _filter_key(request)), lambda: resolve_filters(session, params)
    )


def event_page(
    request: Request,
    response: Response,
    session: SessionDep,
    secret: str,
    params: EventListParams,
    *,
    fragments: bool = False,
    by_year: bool = False,
) -> dict[str, Any]:
    """A page of events, in their JSON shape, for the list and the timeline views.

    With `fragments`, items are the events' stored JSON, ready for orjson to embed, when
    every event on the page has one (both views only serialise them). With `by_year`, the
    page has `years` (consecutive events grouped by start year) instead of `items`.
    """
    pager = Pager(request, secret, params.cursor, params.limit)
    filters = cached_filters(request, session, params)
    # Stored documents show every citation: `as_reported_on` builds its own.
    stored = fragments and filters.reported_on is None
    page: dict[str, Any] = {
        "sort": params.sort,
        "after_values": pager.after,
        "limit": params.limit + 1,
    }
    try:
        found = page_of_documents(session, filters, **page) if stored else None
        prepared = found is not None
        if found is None:
            found = page_of_events(session, filters, with_documents=stored, **page)[0]
    except (ValueError, TypeError):
        raise InvalidCursorError("the cursor does not fit this query") from None
    total = cached_count(request, lambda: count_events(session, filters))
    if prepared:
        return prepared_body(pager, response, found, total, by_year=by_year)
    more = len(found) > params.limit
    rows = found[: params.limit]
    day = today()
    if stored and all(row.document is not None for row, _ in rows):
        items = [documents.shown(row.document, row.planned_end, day) for row, _ in rows]
    else:
        events = [event for event, _ in rows]
        items = event_documents(session, events, day, filters.reported_on)
    page = pager.body(response, items, total, rows[-1][1] if more else None)
    if by_year:
        page["years"] = group_by_year([row.start_date for row, _ in rows], page.pop("items"))
    return page


def prepared_body(
    pager: Pager,
    response: Response,
    found: list[tuple[Any, Sequence[Any]]],
    total: int,
    *,
    by_year: bool = False,
) -> dict[str, Any]:
    """The page of the rows `page_of_documents` found (one more than the page, if there is)."""
    rows = found[: pager.limit]
    day = today()
    # Each row starts with the document and the planned end; read by position, since a
    # row's attributes are looked up by name each time.
    items = [documents.shown(row[0], row[1], day) for row, _ in rows]
    page = pager.body(response, items, total, rows[-1][1] if len(found) > pager.limit else None)
    if by_year:
        # The statement reads in date order: each row's first sort key is its start date.
        page["years"] = group_by_year([keys[0] for _, keys in rows], page.pop("items"))
    return page


def group_by_year(starts: Sequence[date], items: list[Any]) -> list[dict[str, Any]]:
    """Consecutive items of the same start year, in the order given, with their year."""
    years: list[dict[str, Any]] = []
    for start, item in zip(starts, items, strict=True):
        if not years or years[-1]["year"] != start.year:
            years.append({"year": start.year, "events": []})
        years[-1]["events"].append(item)
    return years


def known_filters_and_count(request: Request) -> tuple[ResolvedFilters, int] | None:
    """The list's filters, resolved, and its `total`, when earlier requests have found both
    for this data version; None otherwise."""
    version = getattr(request.state, "data_version", None)
    if version is None:
        return None
    key = _filter_key(request)
    filters = request.app.state.filter_cache.get((version, key))
    total = request.app.state.count_cache.get((version, key))
    if filters is None or total is None:
        return None
    return filters, total


@router.get(
    "",
    operation_id="listEvents",
    summary="List events",
    response_description="A page of events, oldest first unless sorted otherwise.",
    response_model=Page[EventPublic],
)
def list_events(
    request: Request, response: Response, _etag: DataETag, params: EventListParams
) -> Response:
    """Events matching every filter given, each with its actors, programs and citations.

    Follow `next_cursor` (or the `Link: rel="next"` header) for the next page.
    """
    return list_response(request, response, params, request.app.state.read_engine)


def list_response(
    request: Request,
    response: Response,
    params: EventListQuery,
    engine: Engine,
    *,
    by_year: bool = False,
) -> Response:
    """The list's answer (or, `by_year`, the timeline's), once its ETag is on `response`;
    also what app/events/fastlist.py answers. The session is opened here, in the one
    thread-pool call the route makes, rather than by a dependency entered and left in two
    more."""
    secret = request.app.state.settings.cursor_secret
    with Session(engine) as session:
        page = event_page(
            request, response, session, secret, params, fragments=True, by_year=by_year
        )
    return json_response(page, response)


@router.get("/facets", operation_id="getEventFacets", summary="Count events by facet")
def get_facets(session: SessionDep, _etag: DataETag, params: EventFilterParams) -> Facets:
    """For the same filters as the list: how many events each year, actor, program, kind and
    status would give if you added it as a filter."""
    return facets(session, resolve_filters(session, params))


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
