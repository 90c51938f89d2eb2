"""`GET /api/v1/events` answered without FastAPI's routing and parameter solving.

The list is the route readers hit hardest, and most of its cost was FastAPI resolving its
query model field by field. This layer, innermost of the middleware, answers the plain
cases itself by calling the route's own code (`event_page`, `json_response`) with the same
query model, so the bytes and headers are the route's. Anything else — an unknown or
repeated parameter, invalid values, a conditional request, any error — goes on to FastAPI,
which answers it (422, 304, 503…) exactly as before; a GET can safely be answered twice.
"""

import logging
from typing import Any, get_origin

import anyio.to_thread
from fastapi import Request, Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.http import CACHE_CONTROL, data_etag_of
from app.events.filters import EventListQuery
from app.events.router import list_response

log = logging.getLogger("app.events.fastlist")

PATH = "/api/v1/events"
# Each parameter as FastAPI reads it: its alias, and whether it repeats.
_PARAMETERS = {
    (field.alias or name): get_origin(field.annotation) is list
    for name, field in EventListQuery.model_fields.items()
}


def parse(request: Request) -> EventListQuery | None:
    """The query model, or None when FastAPI should judge the query itself."""
    items = request.query_params.multi_items()
    values: dict[str, Any] = {}
    for key, value in items:
        repeats = _PARAMETERS.get(key)
        if repeats is None:
            return None  # unknown: FastAPI answers 422 naming it
        if repeats:
            values.setdefault(key, []).append(value)
        elif key in values:
            return None  # a single-valued parameter given twice
        else:
            values[key] = value
    try:
        return EventListQuery.model_validate(values)
    except ValidationError:
        return None


class FastListMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != PATH
            or scope.get("state", {}).get("data_version") is None
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.headers.get("if-none-match") or (params := parse(request)) is None:
            await self.app(scope, receive, send)
            return
        try:
            # A few threads of the list's own (READ_THREADS): under load, requests queue for
            # them in order rather than forty threads contending for the one core.
            response = await anyio.to_thread.run_sync(
                _answer, request, params, limiter=request.app.state.read_limiter
            )
        except Exception:  # the route answers it, with its error handlers
            log.debug("fast list path gave way to the route", exc_info=True)
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _answer(request: Request, params: EventListQuery) -> Response:
    """What `list_events` answers, by the same code (no If-None-Match reaches here, so the
    ETag dependency would only set its headers)."""
    response = Response()
    response.headers["ETag"] = data_etag_of(request, request.state.data_version)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return list_response(request, response, params, request.app.state.fast_read_engine)
