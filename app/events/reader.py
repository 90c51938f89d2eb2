"""The event reader: every read of events by filters — list and timeline pages, facets,
TimelineJS and the exports — goes through one `EventReader`.

It owns what those reads share: the filters resolved to ids and the counts, each kept for
the data version it was found at; the choice of query (a prepared statement over stored
documents for the commonest pages, the general keyset query otherwise); and where a read
runs — awaited on the event loop when one prepared statement answers it (PostgreSQL), in
one of READ_THREADS worker threads otherwise. docs/architecture.md draws the whole path.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from sqlmodel import Session

from app.core.cache import LRU
from app.core.database import Database
from app.core.dates import today
from app.core.errors import InvalidCursorError
from app.core.http import json_response, validated
from app.core.pagination import Pager
from app.events import documents
from app.events.assembly import event_documents
from app.events.facets import Facets, facets
from app.events.filters import EventFilters, EventListQuery
from app.events.models import EventPublic
from app.events.service import (
    ResolvedFilters,
    count_events,
    document_page_query,
    document_rows,
    iter_events,
    page_of_documents,
    page_of_events,
    resolve_filters,
)

# Remembered per data version: resolved filters and counts of this many filter sets each.
REMEMBERED = 4096
_NOT_FILTERS = {"cursor", "limit", "sort", "format"}

Rows = list[tuple[Any, Sequence[Any]]]
Render = Callable[[Session, Iterator[EventPublic]], Iterator[bytes]]


def filter_key(request: Request) -> tuple[Any, ...] | None:
    """What the filters of this request are remembered under: the data version and the
    filter parameters (the list and the timeline share it); None without a version."""
    version = getattr(request.state, "data_version", None)
    if version is None:
        return None
    items = request.query_params.multi_items()
    return (version, tuple(sorted(p for p in items if p[0] not in _NOT_FILTERS)))


class EventReader:
    """Pages, facets and exports of the events matching a query (see the module's text)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.secret = database.settings.cursor_secret
        self._filters: LRU[ResolvedFilters] = LRU(REMEMBERED)
        self._counts: LRU[int] = LRU(REMEMBERED)
        # Pages by where they were read ("loop", "thread"; "… failed" when the read raised).
        self.served: Counter[str] = Counter()

    @staticmethod
    def of(request: Request) -> "EventReader":
        reader: EventReader = request.app.state.event_reader
        return reader

    # Pages of the list (`by_year=False`) and of the timeline (`by_year=True`).

    async def page(
        self, request: Request, params: EventListQuery, *, by_year: bool = False
    ) -> Response:
        """One page of events in their JSON shape, with its ETag and, when more follow, its
        `Link` to the next page; 304 when the client has it already."""
        response = await validated(request)
        pager = Pager(request, self.secret, params.cursor, params.limit)
        where = "loop"
        try:
            body = await self._page_on_loop(request, pager, params, response, by_year)
            if body is None:
                where = "thread"
                body = await self.database.read(
                    self._page, request, pager, params, response, by_year
                )
        except Exception:
            self.served[f"{where} failed"] += 1
            raise
        self.served[where] += 1
        return json_response(body, response)

    async def _page_on_loop(
        self,
        request: Request,
        pager: Pager,
        params: EventListQuery,
        response: Response,
        by_year: bool,
    ) -> dict[str, Any] | None:
        """The page by one prepared statement awaited on the loop, or None when it takes
        more than that: filters or count not known yet for this version, a shape without a
        prepared statement, no connection free, or an event on the page without its stored
        document."""
        key = filter_key(request)
        if key is None or not self.database.reads_on_loop():
            return None
        filters, total = self._filters.get(key), self._counts.get(key)
        if filters is None or total is None or filters.reported_on is not None:
            return None
        query = _fitting_cursor(
            lambda: document_page_query(
                "postgresql",
                filters,
                sort=params.sort,
                after_values=pager.after,
                limit=params.limit + 1,
            )
        )
        if query is None:
            return None
        rows = await self.database.fetch(*query)
        found = None if rows is None else document_rows(rows)
        if found is None:
            return None
        return prepared_body(pager, response, found, total, by_year=by_year)

    def _page(
        self,
        session: Session,
        request: Request,
        pager: Pager,
        params: EventListQuery,
        response: Response,
        by_year: bool,
    ) -> dict[str, Any]:
        """The page, read in a worker thread."""
        key = filter_key(request)
        filters = self.resolved(session, params, key)
        # Stored documents show every citation: `as_reported_on` builds its own.
        stored = filters.reported_on is None
        sort, after, limit = params.sort, pager.after, params.limit + 1

        def read() -> tuple[Rows, bool]:
            found = None
            if stored:
                found = page_of_documents(
                    session, filters, sort=sort, after_values=after, limit=limit
                )
            if found is not None:
                return found, True
            rows, _ = page_of_events(
                session, filters, sort=sort, after_values=after, limit=limit, with_documents=stored
            )
            return rows, False

        found, prepared = _fitting_cursor(read)
        total = self.count(session, filters, key)
        if prepared:
            return prepared_body(pager, response, found, total, by_year=by_year)
        more = len(found) > params.limit
        rows = found[: params.limit]
        day = today()
        if stored and all(row.document is not None for row, _ in rows):
            items = [documents.shown(row.document, row.planned_end, day) for row, _ in rows]
        else:
            items = event_documents(session, [event for event, _ in rows], day, filters.reported_on)
        page = pager.body(response, items, total, rows[-1][1] if more else None)
        if by_year:
            page["years"] = group_by_year([row.start_date for row, _ in rows], page.pop("items"))
        return page

    # Facets, TimelineJS and the exports.

    async def facets(self, request: Request, params: EventFilters) -> Response:
        """How many matching events each year, actor, program, kind and status has."""
        response = await validated(request)
        counted = await self.database.read(self._facets, request, params)
        return json_response(counted.model_dump(mode="json"), response)

    def _facets(self, session: Session, request: Request, params: EventFilters) -> Facets:
        return facets(session, self.resolved(session, params, filter_key(request)))

    async def render_all(
        self,
        request: Request,
        params: EventFilters,
        render: Callable[[Iterator[EventPublic]], bytes],
        media_type: str,
    ) -> Response:
        """Every matching event rendered as one document (TimelineJS)."""
        response = await validated(request)

        def work() -> bytes:
            with self.database.session() as session:
                return render(self.matching(session, params, filter_key(request)))

        body = await anyio.to_thread.run_sync(work)
        return Response(body, media_type=media_type, headers=response.headers)

    async def stream(
        self, request: Request, params: EventFilters, render: Render
    ) -> tuple[Response, Iterator[bytes]]:
        """The validators of an export and its body: every matching event rendered as it is
        read, in batches, on a session that stays open until the last one."""
        response = await validated(request)
        session = self.database.session()
        try:
            filters = await anyio.to_thread.run_sync(
                self.resolved, session, params, filter_key(request)
            )
        except BaseException:
            session.close()
            raise

        def body() -> Iterator[bytes]:
            with session:
                yield from render(session, iter_events(session, filters, today=today()))

        return response, body()

    # What every read shares.

    def matching(
        self, session: Session, params: EventFilters, key: tuple[Any, ...] | None = None
    ) -> Iterator[EventPublic]:
        """Every matching event, in date order, read a batch at a time."""
        return iter_events(session, self.resolved(session, params, key), today=today())

    def resolved(
        self, session: Session, params: EventFilters, key: tuple[Any, ...] | None
    ) -> ResolvedFilters:
        """The filters with names resolved to ids (which actors an actor includes, and how
        to query them), once per data version and filter set when `key` names them."""
        if key is None:
            return resolve_filters(session, params)
        return self._filters.get_or_make(key, lambda: resolve_filters(session, params))

    def count(self, session: Session, filters: ResolvedFilters, key: tuple[Any, ...] | None) -> int:
        """`total` for these filters, counted once per data version and filter set."""
        if key is None:
            return count_events(session, filters)
        return self._counts.get_or_make(key, lambda: count_events(session, filters))


def _fitting_cursor(read: Callable[[], Any]) -> Any:
    """`read()`, with a cursor whose values do not fit the query refused as such."""
    try:
        return read()
    except (ValueError, TypeError):
        raise InvalidCursorError("the cursor does not fit this query") from None


def prepared_body(
    pager: Pager, response: Response, found: Rows, total: int, *, by_year: bool = False
) -> dict[str, Any]:
    """The page of the rows a prepared statement found (one more than the page, if there is)."""
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
