"""Event queries: filters resolved to ids, keyset pages, and events assembled in few queries."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    LargeBinary,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlmodel import Session, col

from app.actors.service import descendant_ids, find_actor_id, suggest_actors
from app.core.errors import UnknownValueError
from app.core.models import as_utc
from app.core.pagination import after
from app.events import search
from app.events.assembly import assemble
from app.events.filters import EventFilters
from app.events.models import (
    Citation,
    Event,
    EventActor,
    EventDocument,
    EventProgram,
    EventPublic,
    EventReach,
    EventYear,
)
from app.events.search import Term, parse_search
from app.programs.service import find_program_id, suggest_programs
from app.sources.models import Source
from app.sources.service import find_source_id, suggest_sources


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters with every name resolved to ids, ready to become SQL (shared by the requests
    of a data version: never changed once made)."""

    actor_groups: list[set[str]] = field(default_factory=list)
    actor_ids: list[str] = field(default_factory=list)  # the actors named, one per group
    match_all: bool = False
    role: str | None = None
    years: list[int] = field(default_factory=list)
    start_bound: date | None = None
    end_bound: date | None = None
    program_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)
    terms: list[Term] | None = None
    min_sources: int | None = None
    reported_on: date | None = None
    changed_since: datetime | None = None
    # The actors' events are few (FEW_LINKS or less): read them through the actor index
    # rather than probing every event of the period in date order.
    few_actor_events: bool = False


# Below this many event links, fetching an actor's events and sorting them beats walking a
# year's events in order and probing each (measured in bench/, docs/performance.md).
FEW_LINKS = 2500


def _few_links(session: Session, actor_ids: set[str], role: str | None) -> bool:
    """Whether these actors have fewer than FEW_LINKS event links; reads at most that many
    index entries."""
    links = select(col(EventActor.event_id)).where(col(EventActor.actor_id).in_(sorted(actor_ids)))
    if role is not None:
        links = links.where(col(EventActor.role) == role)
    found = session.execute(
        select(func.count()).select_from(links.limit(FEW_LINKS).subquery())
    ).scalar_one()
    return bool(found < FEW_LINKS)


def resolve_filters(session: Session, params: EventFilters) -> ResolvedFilters:
    """Resolve names to ids; raise UnknownValueError (422) naming every unknown value and the
    closest matches for each."""
    unknown: list[tuple[str, str, list[str]]] = []
    groups = []
    named = []
    for name in params.actor:
        actor_id = find_actor_id(session, name)
        if actor_id is None:
            unknown.append(("actor", name, suggest_actors(session, name)))
        else:
            named.append(actor_id)
            groups.append(descendant_ids(session, [actor_id]))
    programs = []
    for name in params.program:
        program_id = find_program_id(session, name)
        if program_id is None:
            unknown.append(("program", name, suggest_programs(session, name)))
        else:
            programs.append(program_id)
    sources = []
    for name in params.source:
        source_id = find_source_id(session, name)
        if source_id is None:
            unknown.append(("source", name, suggest_sources(session, name)))
        else:
            sources.append(source_id)
    if unknown:
        raise UnknownValueError(unknown)
    role = params.role.value if params.role else None
    everyone = set().union(*groups)
    return ResolvedFilters(
        actor_groups=groups,
        actor_ids=named,
        match_all=params.actor_match == "all",
        role=role,
        few_actor_events=bool(groups) and _few_links(session, everyone, role),
        years=list(params.year),
        start_bound=params.start_bound,
        end_bound=params.end_bound,
        program_ids=programs,
        kinds=[k.value for k in params.kind],
        statuses=[s.value for s in params.status],
        source_ids=sources,
        terms=parse_search(params.q) if params.q is not None else None,
        min_sources=params.min_sources,
        reported_on=params.as_reported_on,
        changed_since=as_utc(params.changed_since) if params.changed_since else None,
    )


def _involving(
    actor_ids: set[str] | None, role: str | None, few: bool = False
) -> ColumnElement[bool]:
    if few and actor_ids is not None:
        # The actors' few events, from the (actor_id, role, event_id) index, drive the query.
        listed = select(col(EventActor.event_id)).where(
            col(EventActor.actor_id).in_(sorted(actor_ids))
        )
        if role is not None:
            listed = listed.where(col(EventActor.role) == role)
        return col(Event.id).in_(listed)
    # A probe of the (event_id, actor_id, role) key per candidate event: cheap when the
    # candidates come in page order from an index and the scan stops after a page.
    links = select(col(EventActor.event_id)).where(col(EventActor.event_id) == col(Event.id))
    if actor_ids is not None:
        links = links.where(col(EventActor.actor_id).in_(sorted(actor_ids)))
    if role is not None:
        links = links.where(col(EventActor.role) == role)
    return links.exists()


def _citations(reported_on: date | None) -> Select[str]:
    """Event ids of citations, only those from sources published by `reported_on` if given."""
    query = select(col(Citation.event_id))
    if reported_on is not None:
        published = select(col(Source.id)).where(col(Source.published_until) <= reported_on)
        query = query.where(col(Citation.source_id).in_(published))
    return query


def where_clauses(
    filters: ResolvedFilters,
    dialect: str | None,
    *,
    search_filter: bool = True,
    by_year: bool = False,
    by_reach: bool = False,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions on `event` for these filters.

    With `search_filter` off the caller joins the search matches itself (to sort by score);
    with `by_year` it reads the events of the (single) year from `event_year` itself.
    """
    if not search_filter:
        filters = replace(filters, terms=None)
    clauses: list[ColumnElement[bool]] = []
    if by_reach:
        pass  # the caller reads the actor's year from `event_reach` itself
    elif filters.actor_groups:
        if filters.match_all:
            clauses += [_involving(group, filters.role) for group in filters.actor_groups]
        else:
            everyone = set().union(*filters.actor_groups)
            clauses.append(_involving(everyone, filters.role, filters.few_actor_events))
    elif filters.role is not None:
        clauses.append(_involving(None, filters.role))
    if filters.years and not by_year:
        covering = select(col(EventYear.event_id)).where(col(EventYear.year).in_(filters.years))
        clauses.append(col(Event.id).in_(covering))
    if filters.start_bound is not None:
        clauses.append(col(Event.span_end) >= filters.start_bound)
    if filters.end_bound is not None:
        clauses.append(col(Event.start_date) <= filters.end_bound)
    if filters.program_ids:
        programs = select(col(EventProgram.event_id)).where(
            col(EventProgram.program_id).in_(filters.program_ids)
        )
        clauses.append(col(Event.id).in_(programs))
    if filters.kinds:
        clauses.append(col(Event.kind).in_(filters.kinds))
    if filters.statuses:
        clauses.append(col(Event.status).in_(filters.statuses))
    if filters.source_ids:
        cited = _citations(filters.reported_on).where(
            col(Citation.source_id).in_(filters.source_ids)
        )
        clauses.append(col(Event.id).in_(cited))
    elif filters.reported_on is not None:
        clauses.append(col(Event.id).in_(_citations(filters.reported_on)))
    if filters.min_sources is not None:
        corroborated = (
            _citations(filters.reported_on)
            .group_by(col(Citation.event_id))
            .having(func.count(func.distinct(col(Citation.source_id))) >= filters.min_sources)
        )
        clauses.append(col(Event.id).in_(corroborated))
    if filters.changed_since is not None:
        clauses.append(col(Event.updated_at) >= filters.changed_since)
    if filters.terms is not None and dialect is not None:
        found = search.matches(dialect, filters.terms, filters.reported_on)
        clauses.append(col(Event.id).in_(select(found.c.event_id)))
    return clauses


def sort_keys(
    filters: ResolvedFilters, sort: str | None, score: Any = None
) -> list[tuple[Any, bool]]:
    """(expression, ascending) pairs that order a list; ids break ties."""
    if sort is None:
        sort = "relevance" if filters.terms is not None else "date"
    if sort == "-date":
        return [(col(Event.start_date), False), (col(Event.id), False)]
    if sort == "relevance" and score is not None:
        return [(score, False), (col(Event.start_date), True), (col(Event.id), True)]
    return [(col(Event.start_date), True), (col(Event.id), True)]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _reach_applies(filters: ResolvedFilters) -> bool:
    """One actor (with those below it), in one year, any role: a range of event_reach."""
    return len(filters.years) == 1 and len(filters.actor_ids) == 1 and filters.role is None


def _in_reach(query: Select[Any], filters: ResolvedFilters) -> Select[Any]:
    return query.where(
        col(EventReach.actor_id) == filters.actor_ids[0],
        col(EventReach.year) == filters.years[0],
    )


def matching_ids(filters: ResolvedFilters, dialect: str) -> Select[Any]:
    """The ids (column `id`) of the events matching these filters: for one actor in one year
    a range of event_reach, joined to the events only for other filters on them."""
    if _reach_applies(filters):
        query = _in_reach(select(col(EventReach.event_id).label("id")), filters)
        rest = where_clauses(filters, dialect, by_year=True, by_reach=True)
        if rest:
            query = query.join(Event, col(Event.id) == col(EventReach.event_id)).where(*rest)
        return query
    return select(col(Event.id)).where(*where_clauses(filters, dialect))


def count_events(session: Session, filters: ResolvedFilters) -> int:
    matching = matching_ids(filters, _dialect(session)).subquery("matching")
    return session.execute(select(func.count()).select_from(matching)).scalar_one()


def page_of_events(
    session: Session,
    filters: ResolvedFilters,
    *,
    sort: str | None,
    after_values: Sequence[Any] | None,
    limit: int,
    with_documents: bool = False,
) -> tuple[list[tuple[Any, Sequence[Any]]], list[tuple[Any, bool]]]:
    """Up to `limit` events after the cursor position, each with its sort key values.

    With `with_documents`, each row also has the event's stored `document` (None if it has
    none yet). Also returns the sort keys used, so the caller can check and make cursors.
    """
    dialect = _dialect(session)
    query = select(*Event.__table__.c)  # type: ignore[attr-defined]
    if with_documents:
        query = query.outerjoin(
            EventDocument, col(EventDocument.event_id) == col(Event.id)
        ).add_columns(col(EventDocument.body).label("document"), col(EventDocument.planned_end))
    score = None
    if filters.terms is not None:
        found = search.matches(dialect, filters.terms, filters.reported_on)
        query = query.join(found, found.c.event_id == col(Event.id))
        score = found.c.score
    keys = sort_keys(filters, sort, score)
    by_year = len(filters.years) == 1 and score is None
    by_reach = by_year and _reach_applies(filters)
    if by_reach:
        # One actor (with those below it) in one year: one range of event_reach, in order.
        query = _in_reach(
            query.join(EventReach, col(EventReach.event_id) == col(Event.id)), filters
        )
        keys = _keys_from(keys, col(EventReach.start_date), col(EventReach.event_id))
    elif by_year:
        # The year's rows are stored in page order: read them in order and stop at a page.
        query = query.join(EventYear, col(EventYear.event_id) == col(Event.id)).where(
            col(EventYear.year) == filters.years[0]
        )
        keys = _keys_from(keys, col(EventYear.start_date), col(EventYear.event_id))
    query = query.add_columns(*(expr.label(f"sort_key_{i}") for i, (expr, _) in enumerate(keys)))
    query = query.where(
        *where_clauses(filters, dialect, search_filter=False, by_year=by_year, by_reach=by_reach)
    )
    if after_values is not None:
        query = query.where(after(keys, parse_key_values(keys, after_values)))
    query = query.order_by(*(expr.asc() if asc else expr.desc() for expr, asc in keys))
    rows = session.connection().execute(query.limit(limit)).all()
    width = len(keys)
    return [(row, [_plain(v) for v in row[-width:]]) for row in rows], keys


def page_of_documents(
    session: Session,
    filters: ResolvedFilters,
    *,
    sort: str | None,
    after_values: Sequence[Any] | None,
    limit: int,
) -> list[tuple[Any, Sequence[Any]]] | None:
    """What `page_of_events(..., with_documents=True)` gives, for the two commonest lists
    (one actor with those below it in one year, and every event), by a statement built once:
    each row has the event's stored `document` and `planned_end`, and its sort key values.

    None when the filters have another shape, or when an event on the page has no document
    yet: `page_of_events` answers those.
    """
    query = document_page_query(
        _dialect(session), filters, sort=sort, after_values=after_values, limit=limit
    )
    if query is None:
        return None
    return document_rows(session.connection().execute(*query).all())


def document_page_query(
    dialect: str,
    filters: ResolvedFilters,
    *,
    sort: str | None,
    after_values: Sequence[Any] | None,
    limit: int,
) -> tuple[Select[Any], dict[str, Any]] | None:
    """The statement of `page_of_documents` and its values, or None for filters of another
    shape. A bad cursor raises ValueError or TypeError."""
    if filters == _NO_FILTERS:
        shape = "all"
    elif _reach_applies(filters) and _only_actor_and_year(filters):
        shape = "reach"
    else:
        return None
    # Date order unless "-date": "relevance" without search terms is date order too.
    ascending = sort != "-date"
    values: dict[str, Any] = {}
    if shape == "reach":
        values |= {"actor": filters.actor_ids[0], "year": filters.years[0]}
    if after_values is not None:
        if len(after_values) != 2:
            raise ValueError("cursor does not match the sort")
        values |= {
            "after_date": date.fromisoformat(after_values[0]),
            "after_id": str(after_values[1]),
        }
    statement = _document_page(dialect, shape, ascending, after_values is not None, int(limit))
    return statement, values


def document_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, Sequence[Any]]] | None:
    """The rows of a `document_page_query` with their sort keys; None when an event on the
    page has no document yet."""
    if any(row[0] is None for row in rows):
        return None
    # Dates in cursors are written as orjson writes them: ISO 8601, like page_of_events.
    return [(row, row[2:]) for row in rows]


_NO_FILTERS = ResolvedFilters()


def _only_actor_and_year(filters: ResolvedFilters) -> bool:
    rest = replace(filters, actor_groups=[], actor_ids=[], years=[], few_actor_events=False)
    return rest == _NO_FILTERS


@lru_cache(maxsize=256)
def _document_page(
    dialect: str, shape: str, ascending: bool, with_cursor: bool, limit: int
) -> Select[Any]:
    """The statement of `page_of_documents` for one shape, order, cursor use and page size,
    with its other values as bound parameters: built, and compiled by SQLAlchemy, once.

    The page size is written into the SQL: with LIMIT as a parameter, PostgreSQL judges its
    generic plan too costly (it cannot know the page is small) and plans every execution
    anew, which cost a quarter of the query's round trip."""
    document = EventDocument.__table__.c  # type: ignore[attr-defined]
    # SQLite hands a BLOB over as it is stored, without decoding it to a str that orjson
    # would only encode again.
    body = cast(document.body, LargeBinary) if dialect == "sqlite" else document.body
    source = (EventReach if shape == "reach" else Event).__table__  # type: ignore[union-attr]
    start_date = source.c.start_date
    event_id = source.c.event_id if shape == "reach" else source.c.id
    query = (
        select(
            body.label("document"),
            document.planned_end,
            start_date.label("sort_key_0"),
            event_id.label("sort_key_1"),
        )
        .select_from(source.outerjoin(EventDocument, document.event_id == event_id))
        .limit(literal_column(str(limit)))
    )
    if shape == "reach":
        query = query.where(
            source.c.actor_id == bindparam("actor"), source.c.year == bindparam("year")
        )
    if with_cursor:
        row = tuple_(start_date, event_id)
        bound = tuple_(bindparam("after_date", type_=Date), bindparam("after_id", type_=String))
        query = query.where(row > bound if ascending else row < bound)
    if ascending:
        return query.order_by(start_date.asc(), event_id.asc())
    return query.order_by(start_date.desc(), event_id.desc())


def _keys_from(
    keys: list[tuple[Any, bool]], start_date: Any, event_id: Any
) -> list[tuple[Any, bool]]:
    """The date-order keys read from an index table's own start_date and event_id columns."""
    return [(start_date if expr is col(Event.start_date) else event_id, asc) for expr, asc in keys]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_DATE_KEYS = (col(Event.start_date), col(EventYear.start_date), col(EventReach.start_date))
_ID_KEYS = (col(Event.id), col(EventYear.event_id), col(EventReach.event_id))


def parse_key_values(keys: Sequence[tuple[Any, bool]], values: Sequence[Any]) -> list[Any]:
    """Turn a cursor's JSON values back into what the sort expressions compare against."""
    if len(values) != len(keys):
        raise ValueError("cursor does not match the sort")
    parsed: list[Any] = []
    for (expr, _), value in zip(keys, values, strict=True):
        if any(expr is c for c in _DATE_KEYS):
            parsed.append(date.fromisoformat(value))
        elif any(expr is c for c in _ID_KEYS):
            parsed.append(str(value))
        else:
            parsed.append(float(value))
    return parsed


def iter_events(
    session: Session, filters: ResolvedFilters, *, today: date, batch: int = 500
) -> Iterator[EventPublic]:
    """Every matching event in date order, fetched a batch at a time through the keyset."""
    after_values: Sequence[Any] | None = None
    while True:
        rows, _ = page_of_events(
            session, filters, sort="date", after_values=after_values, limit=batch
        )
        yield from assemble(session, [event for event, _ in rows], today, filters.reported_on)
        if len(rows) < batch:
            return
        after_values = rows[-1][1]
