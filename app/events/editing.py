"""Writes on `/api/v1/events`: events, their citations, and their revision history."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select
from sqlmodel import Session, col

from app.auth.deps import AuthFirstRoute, EditorDep
from app.core.database import SessionDep, WriteSessionDep
from app.core.dates import today
from app.core.deps import SettingsDep
from app.core.editing import change_reason, commit_write
from app.core.errors import NotFoundError
from app.core.http import DataETag, check_if_match, resource_response
from app.core.listing import CURSOR_HELP, after_serial
from app.core.pagination import Page, Pager
from app.editing.routes import WRITE_RESPONSES as SHARED_RESPONSES
from app.events import documents
from app.events.assembly import event_documents
from app.events.inputs import CitationCreate, CitationUpdate, EventCreate, EventUpdate
from app.events.models import Citation, CitationPublic, Event, EventPublic
from app.events.writes import (
    add_citation,
    create_event,
    delete_citation,
    delete_event,
    update_citation,
    update_event,
)
from app.history.models import RevisionPublic
from app.history.service import event_history, has_history

router = APIRouter(prefix="/api/v1/events", tags=["editing"], route_class=AuthFirstRoute)

EventIdPath = Annotated[str, Path(description="The event's id.", examples=["ilrs-memorandum"])]
# Citation ids are 32-bit integers in the database: a larger one names no citation.
CitationIdPath = Annotated[
    int, Path(description="The citation's id.", examples=[1], ge=1, le=2_147_483_647)
]
WRITE_RESPONSES = SHARED_RESPONSES | {
    409: {"description": "Conflicts with existing data"},
    413: {"description": "Body over 1 MiB"},
    422: {"description": "Invalid data"},
    429: {"description": "Too many writes from this token, or failed logins; see Retry-After"},
}


def locked_event(session: WriteSessionDep, event_id: EventIdPath) -> Event:
    """The event, locked for this write transaction (row lock on PostgreSQL)."""
    event = session.get(Event, event_id, with_for_update=True)
    if event is None:
        raise NotFoundError(f"no event with id '{event_id}'")
    return event


LockedEvent = Annotated[Event, Depends(locked_event)]


def relock(session: Session, event: Event) -> Callable[[], object]:
    """Take the event's row lock again, for a write retried after a collision (the lock
    `locked_event` took went with the aborted transaction)."""

    def again() -> None:
        if session.get(Event, event.id, with_for_update=True, populate_existing=True) is None:
            raise NotFoundError(f"no event with id '{event.id}'")

    return again


def _citation(session: Session, event: Event, citation_id: int) -> Citation:
    citation = session.get(Citation, citation_id)
    if citation is None or citation.event_id != event.id:
        raise NotFoundError(f"event '{event.id}' has no citation {citation_id}")
    return citation


def _shown(session: Session, event: Event) -> dict[str, Any]:
    """The event exactly as GET shows it, so If-Match compares like with like: the document
    its last write stored (a write builds it once, there), or built now when it has none."""
    stored = documents.read(session, event.id, today())
    return stored if stored is not None else event_documents(session, [event], today())[0]


def _citation_shown(session: Session, event: Event, citation_id: int) -> dict[str, Any]:
    return next(c for c in _shown(session, event)["citations"] if c["id"] == citation_id)


def _matching_citation(
    request: Request, session: Session, event: Event, citation_id: int
) -> Citation:
    """The citation to change, once If-Match (when sent) names its current version."""
    citation = _citation(session, event, citation_id)
    check_if_match(request, _citation_shown(session, event, citation_id))
    return citation


@router.post(
    "",
    status_code=201,
    operation_id="createEvent",
    summary="Add an event",
    response_model=EventPublic,
    responses=WRITE_RESPONSES,
)
def post_event(
    request: Request, editor: EditorDep, session: WriteSessionDep, body: EventCreate
) -> Response:
    """Add an event with its actors, programs and at least one citation.

    Send an `Idempotency-Key` header to make retries safe."""

    def write() -> Response:
        event = create_event(session, body, author=editor.name, reason=change_reason(request, body))
        return resource_response(
            request, _shown(session, event), status=201, location=f"/api/v1/events/{event.id}"
        )

    return commit_write(request, session, editor.token_id, write, body=body)


@router.patch(
    "/{event_id}",
    operation_id="updateEvent",
    summary="Change an event",
    response_model=EventPublic,
    responses=WRITE_RESPONSES,
)
def patch_event(
    request: Request,
    editor: EditorDep,
    session: WriteSessionDep,
    event: LockedEvent,
    body: EventUpdate,
) -> Response:
    """Change the fields given; `actors` or `programs`, when given, replace the old lists.

    Send the ETag you read as `If-Match` so that you never overwrite someone else's edit."""

    def write() -> Response:
        check_if_match(request, _shown(session, event))
        update_event(session, event, body, author=editor.name, reason=change_reason(request, body))
        return resource_response(request, _shown(session, event))

    return commit_write(
        request, session, editor.token_id, write, body=body, relock=relock(session, event)
    )


@router.delete(
    "/{event_id}",
    status_code=204,
    operation_id="deleteEvent",
    summary="Delete an event",
    responses=WRITE_RESPONSES,
)
def remove_event(
    request: Request, editor: EditorDep, session: WriteSessionDep, event: LockedEvent
) -> Response:
    """Delete an event and its citations; the history keeps a tombstone."""

    def write() -> Response:
        check_if_match(request, _shown(session, event))
        delete_event(session, event, author=editor.name, reason=change_reason(request))
        return Response(status_code=204)

    return commit_write(request, session, editor.token_id, write, relock=relock(session, event))


@router.post(
    "/{event_id}/citations",
    status_code=201,
    operation_id="createCitation",
    summary="Cite a source for an event",
    response_model=CitationPublic,
    responses=WRITE_RESPONSES,
)
def post_citation(
    request: Request,
    editor: EditorDep,
    session: WriteSessionDep,
    event: LockedEvent,
    body: CitationCreate,
) -> Response:
    """Add a citation: the source and the verbatim sentence that supports the event."""

    def write() -> Response:
        citation = add_citation(
            session, event, body, author=editor.name, reason=change_reason(request, body)
        )
        assert citation.id is not None
        return resource_response(
            request,
            _citation_shown(session, event, citation.id),
            status=201,
            location=f"/api/v1/events/{event.id}/citations/{citation.id}",
        )

    return commit_write(
        request, session, editor.token_id, write, body=body, relock=relock(session, event)
    )


@router.get(
    "/{event_id}/citations/{citation_id}",
    operation_id="getCitation",
    summary="Get one citation",
    response_model=CitationPublic,
    tags=["events"],
)
def get_citation(
    request: Request, session: SessionDep, event_id: EventIdPath, citation_id: CitationIdPath
) -> Response:
    """One citation of an event, with its source."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id '{event_id}'")
    _citation(session, event, citation_id)
    return resource_response(request, _citation_shown(session, event, citation_id))


@router.patch(
    "/{event_id}/citations/{citation_id}",
    operation_id="updateCitation",
    summary="Correct a citation",
    response_model=CitationPublic,
    responses=WRITE_RESPONSES,
)
def patch_citation(
    request: Request,
    editor: EditorDep,
    session: WriteSessionDep,
    event: LockedEvent,
    citation_id: CitationIdPath,
    body: CitationUpdate,
) -> Response:
    """Correct a quote, its source, the date it claims or its note."""

    def write() -> Response:
        citation = _matching_citation(request, session, event, citation_id)
        update_citation(
            session, event, citation, body, author=editor.name, reason=change_reason(request, body)
        )
        return resource_response(request, _citation_shown(session, event, citation_id))

    return commit_write(
        request, session, editor.token_id, write, body=body, relock=relock(session, event)
    )


@router.delete(
    "/{event_id}/citations/{citation_id}",
    status_code=204,
    operation_id="deleteCitation",
    summary="Remove a citation",
    responses=WRITE_RESPONSES,
)
def remove_citation(
    request: Request,
    editor: EditorDep,
    session: WriteSessionDep,
    event: LockedEvent,
    citation_id: CitationIdPath,
) -> Response:
    """Remove a citation (an event keeps at least one)."""

    def write() -> Response:
        citation = _matching_citation(request, session, event, citation_id)
        delete_citation(session, event, citation, author=editor.name, reason=change_reason(request))
        return Response(status_code=204)

    return commit_write(request, session, editor.token_id, write, relock=relock(session, event))


@router.get(
    "/{event_id}/history",
    operation_id="getEventHistory",
    summary="An event's revision history",
    tags=["events"],
)
def get_history(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _etag: DataETag,
    event_id: EventIdPath,
    limit: Annotated[
        int, Query(ge=1, le=200, description="Revisions per page.", examples=[50])
    ] = 50,
    cursor: Annotated[str | None, Query(min_length=1, description=CURSOR_HELP)] = None,
) -> Page[RevisionPublic]:
    """Every change to the event and its citations — who, when, what and why — oldest first.

    Deleted events keep their history, ending with a `delete` tombstone."""
    exists = session.execute(select(col(Event.id)).where(col(Event.id) == event_id)).first()
    if exists is None and not has_history(session, event_id):
        raise NotFoundError(f"no event with id '{event_id}', now or in the past")
    pager = Pager(request, settings.cursor_secret, cursor, limit)
    after_id = after_serial(pager.after)
    items, total = event_history(session, event_id, after_id=after_id, limit=limit + 1)
    return pager.page_by_id(response, items, total)
