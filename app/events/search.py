"""Full-text search with each database's own engine: SQLite FTS5, PostgreSQL tsvector + GIN.

The index holds one row for each event (title and summary) and one for each citation (its
quote), so a search can leave out quotes from sources the "as reported on" view hides.
The service layer reindexes an event whenever it or its citations change.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Float, String, bindparam, text
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """A word, a word prefix (`lun*`) or a phrase (`"lunar station"`); terms are ANDed."""

    words: tuple[str, ...]
    prefix: bool = False


def parse_search(q: str) -> list[Term]:
    """Read a user's search; anything that is not a word is ignored, so it never fails."""
    terms: list[Term] = []
    for phrase, bare in _TOKEN.findall(q.lower()):
        if phrase:
            words = tuple(_WORD.findall(phrase))
            if words:
                terms.append(Term(words))
            continue
        words = tuple(_WORD.findall(bare))
        for i, word in enumerate(words):
            last = i == len(words) - 1
            terms.append(Term((word,), prefix=last and bare.endswith("*")))
    return terms


def fts5_query(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.words) + '"'
        parts.append(quoted + "*" if term.prefix else quoted)
    return " AND ".join(parts)


def tsquery(terms: Sequence[Term]) -> str:
    parts = []
    for term in terms:
        if len(term.words) > 1:
            parts.append("(" + " <-> ".join(term.words) + ")")
        else:
            parts.append(term.words[0] + (":*" if term.prefix else ""))
    return " & ".join(parts)


_VISIBLE = (
    "(citation_id IS NULL OR citation_id IN (SELECT c.id FROM citation c JOIN source s "
    "ON s.id = c.source_id WHERE s.published_until <= :reported_on))"
)


def matches(dialect: str, terms: Sequence[Term], reported_on: date | None) -> Subquery:
    """(event_id, score) for events matching every term; a higher score is a better match."""
    if not terms:  # nothing searchable (only punctuation, or empty quotes): no match
        nothing = "SELECT event_id, 0.0 AS score FROM event_search WHERE 1 = 0"
        return text(nothing).columns(event_id=String, score=Float).subquery("matches")
    visible = f" AND {_VISIBLE}" if reported_on else ""
    if dialect == "postgresql":
        sql = (
            "SELECT event_id, max(ts_rank_cd(document, query))::float8 AS score "
            "FROM event_search, to_tsquery('english', :q) AS query "
            f"WHERE document @@ query{visible} GROUP BY event_id"
        )
        q = tsquery(terms)
    else:
        sql = (
            "SELECT event_id, max(score) AS score FROM (SELECT event_id, citation_id, "
            "-rank AS score FROM event_search "
            "WHERE event_search MATCH :q) AS hits"
            f"{' WHERE ' + _VISIBLE if reported_on else ''} GROUP BY event_id"
        )
        q = fts5_query(terms)
    binds: list[BindParameter[object]] = [bindparam("q", q)]
    if reported_on:
        binds.append(bindparam("reported_on", reported_on))
    statement = text(sql).bindparams(*binds).columns(event_id=String, score=Float)
    return statement.subquery("matches")


def reindex(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the search rows of these events (all events when None)."""
    dialect = session.get_bind().dialect.name
    scope = "" if event_ids is None else " WHERE {col} IN :ids"
    params: dict[str, list[str]] = {} if event_ids is None else {"ids": list(event_ids)}
    if event_ids is not None and not event_ids:
        return

    def run(sql: str) -> None:
        statement = text(sql)
        if event_ids is not None:
            statement = statement.bindparams(bindparam("ids", expanding=True))
        session.execute(statement, params)

    run("DELETE FROM event_search" + scope.format(col="event_id"))
    if dialect == "postgresql":
        run(
            "INSERT INTO event_search (event_id, citation_id, document) "
            "SELECT id, NULL, setweight(to_tsvector('english', title), 'A') || "
            "setweight(to_tsvector('english', summary), 'B') FROM event" + scope.format(col="id")
        )
        run(
            "INSERT INTO event_search (event_id, citation_id, document) "
            "SELECT event_id, id, setweight(to_tsvector('english', quote), 'B') FROM citation"
            + scope.format(col="event_id")
        )
    else:
        run(
            "INSERT INTO event_search (title, body, event_id, citation_id) "
            "SELECT title, summary, id, NULL FROM event" + scope.format(col="id")
        )
        run(
            "INSERT INTO event_search (title, body, event_id, citation_id) "
            "SELECT '', quote, event_id, id FROM citation" + scope.format(col="event_id")
        )
