"""The `event_year` rows: one for each calendar year an event's period overlaps."""

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

_FILL = {
    "postgresql": (
        "INSERT INTO event_year (year, start_date, event_id) "
        "SELECT y, start_date, id FROM event, "
        "generate_series(extract(year FROM start_date)::int, extract(year FROM span_end)::int) "
        "AS y{where}"
    ),
    "sqlite": (
        "WITH RECURSIVE years(y) AS (SELECT 1900 UNION ALL SELECT y + 1 FROM years WHERE y < 2200) "
        "INSERT INTO event_year (year, start_date, event_id) "
        "SELECT y, start_date, id FROM event JOIN years "
        "ON y BETWEEN CAST(strftime('%Y', start_date) AS INTEGER) "
        "AND CAST(strftime('%Y', span_end) AS INTEGER){where}"
    ),
}


def reindex_years(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the year rows of these events (all events when None)."""
    dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    rebuild(session, "event_year", _FILL[dialect], "id", event_ids)


def rebuild(
    session: Session, table: str, fill: str, column: str, event_ids: Sequence[str] | None
) -> None:
    """Delete a derived table's rows of these events (all when None) and fill them again with
    `fill`, whose `{where}` becomes a filter of `column` on the event ids."""
    if event_ids is None:
        session.execute(text(f"DELETE FROM {table}"))
        session.execute(text(fill.format(where="")))
        return
    if not event_ids:
        return
    ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
    session.execute(
        text(f"DELETE FROM {table} WHERE event_id IN :ids").bindparams(ids),
        {"ids": list(event_ids)},
    )
    where = f" WHERE {column} IN :ids"
    session.execute(text(fill.format(where=where)).bindparams(ids), {"ids": list(event_ids)})
