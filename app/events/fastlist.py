"""`GET /api/v1/events` (and `/api/v1/timeline`, its events grouped by year) answered
without FastAPI's routing and parameter solving.

The list is the route readers hit hardest, and most of its cost was FastAPI resolving its
query model field by field. This layer, innermost of the middleware, answers the plain
cases itself by calling the route's own code (`list_response`, `prepared_body`) with the
same query model, so the bytes and headers are the route's. Anything else — an unknown or
repeated parameter, invalid values, a conditional request, the TimelineJS format, any
error — goes on to FastAPI, which answers it (422, 304, 503…) exactly as before; a GET can
safely be answered twice.

On PostgreSQL, a page whose filters and count earlier requests have already found for this
data version is one query of a prepared shape (`document_page_query`): it is awaited on the
event loop (`LoopReads`) rather than run in a thread, and the page built by the route's own
`prepared_body`. Anything else takes the thread.
"""

import logging
from dataclasses import dataclass
from typing import Any, get_origin

import anyio.to_thread
from fastapi import Request, Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.db import LoopReads
from app.core.http import CACHE_CONTROL, data_etag_of, json_response
from app.core.pagination import Pager
from app.events.filters import EventListQuery
from app.events.router import known_filters_and_count, list_response, prepared_body
from app.events.service import document_page_query, document_rows
from app.timeline.router import TimelineQuery

log = logging.getLogger("app.events.fastlist")


@dataclass(frozen=True)
class View:
    """A route this layer answers: its query model, each parameter as FastAPI reads it
    (alias, and whether it repeats), and whether its events are grouped by year."""

    model: type[EventListQuery]
    parameters: dict[str, bool]
    by_year: bool


def _view(model: type[EventListQuery], *, by_year: bool) -> View:
    parameters = {
        (info.alias or name): get_origin(info.annotation) is list
        for name, info in model.model_fields.items()
    }
    return View(model, parameters, by_year)


VIEWS = {
    "/api/v1/events": _view(EventListQuery, by_year=False),
    "/api/v1/timeline": _view(TimelineQuery, by_year=True),
}


def parse(request: Request, view: View) -> EventListQuery | None:
    """The query model, or None when FastAPI should judge the query itself."""
    items = request.query_params.multi_items()
    values: dict[str, Any] = {}
    for key, value in items:
        repeats = view.parameters.get(key)
        if repeats is None:
            return None  # unknown: FastAPI answers 422 naming it
        if repeats:
            values.setdefault(key, []).append(value)
        elif key in values:
            return None  # a single-valued parameter given twice
        else:
            values[key] = value
    try:
        params = view.model.model_validate(values)
    except ValidationError:
        return None
    if isinstance(params, TimelineQuery) and params.format != "json":
        return None  # the TimelineJS document: every match, the route's own
    return params


class FastListMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        view = VIEWS.get(scope["path"]) if scope["type"] == "http" else None
        if (
            view is None
            or scope["method"] != "GET"
            or scope.get("state", {}).get("data_version") is None
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.headers.get("if-none-match") or (params := parse(request, view)) is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await _answer_on_loop(request, params, view)
            if response is None:
                # A few threads of the list's own (READ_THREADS): under load, requests queue
                # for them in order rather than forty threads contending for the one core.
                response = await anyio.to_thread.run_sync(
                    _answer, request, params, view, limiter=request.app.state.read_limiter
                )
        except Exception:  # the route answers it, with its error handlers
            log.debug("fast list path gave way to the route", exc_info=True)
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _answer(request: Request, params: EventListQuery, view: View) -> Response:
    """What the route answers, by the same code (no If-None-Match reaches here, so the ETag
    dependency would only set its headers)."""
    engine = request.app.state.fast_read_engine
    return list_response(request, _validated(request), params, engine, by_year=view.by_year)


async def _answer_on_loop(request: Request, params: EventListQuery, view: View) -> Response | None:
    """The answer of `_answer` by one query awaited on the loop, or None when it would take
    more than that (filters or count not known yet, another shape, a document missing)."""
    reads: LoopReads | None = request.app.state.loop_reads
    if reads is None or not reads.usable():
        return None
    known = known_filters_and_count(request)
    if known is None:
        return None
    filters, total = known
    if filters.reported_on is not None:  # stored documents show every citation
        return None
    pager = Pager(request, request.app.state.settings.cursor_secret, params.cursor, params.limit)
    query = document_page_query(
        "postgresql", filters, sort=params.sort, after_values=pager.after, limit=params.limit + 1
    )
    if query is None:
        return None
    rows = await reads.fetch(*query)
    found = None if rows is None else document_rows(rows)
    if found is None:
        return None
    response = _validated(request)
    page = prepared_body(pager, response, found, total, by_year=view.by_year)
    return json_response(page, response)


def _validated(request: Request) -> Response:
    """A response carrying the validators the ETag dependency would set."""
    response = Response()
    response.headers["ETag"] = data_etag_of(request, request.state.data_version)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
