"""The `event_reach` rows: for each event, every actor it involves directly or through an
actor below it, once for each year the event covers, in date order.

"Events of Russia in 2021" is then one range of the (actor_id, year, start_date, event_id)
key, read in page order, whatever the actor's size: no probing a year's events one by one,
no gathering an actor's whole history to sort it.
"""

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session

from app.events.years import rebuild

# Each actor with itself and every actor above it (a hierarchy is a few levels deep; the
# depth bound only guards against a cycle that the writes already refuse).
_FILL = (
    "WITH RECURSIVE up(actor_id, ancestor_id, depth) AS ("
    " SELECT id, id, 0 FROM actor"
    " UNION ALL"
    " SELECT up.actor_id, actor.parent_id, up.depth + 1 FROM up"
    " JOIN actor ON actor.id = up.ancestor_id"
    " WHERE actor.parent_id IS NOT NULL AND up.depth < 32)"
    " INSERT INTO event_reach (actor_id, year, start_date, event_id)"
    " SELECT DISTINCT up.ancestor_id, ey.year, ey.start_date, ey.event_id"
    " FROM event_year ey"
    " JOIN event_actor ea ON ea.event_id = ey.event_id"
    " JOIN up ON up.actor_id = ea.actor_id{where}"
)


def reindex_reach(session: Session, event_ids: Sequence[str] | None = None) -> None:
    """Rebuild the reach rows of these events (all events when None), from their actor
    links and year rows (rebuild those first)."""
    rebuild(session, "event_reach", _FILL, "ey.event_id", event_ids)


def reindex_actors(session: Session, actor_ids: Sequence[str]) -> None:
    """Rebuild the reach rows of every event involving these actors (after their place in
    the hierarchy changed)."""
    if not actor_ids:
        return
    ids: BindParameter[list[str]] = bindparam("ids", expanding=True)
    events = session.execute(
        text("SELECT DISTINCT event_id FROM event_actor WHERE actor_id IN :ids").bindparams(ids),
        {"ids": list(actor_ids)},
    )
    reindex_reach(session, [row[0] for row in events])
