"""Queries on actors: lookup by any name, the hierarchy, and lists."""

from collections.abc import Sequence

from sqlalchemy import column, func, literal, select, table, union
from sqlmodel import Session, col

from app.actors.models import Actor, ActorAlias, ActorDetail, ActorPublic, ActorRef
from app.core.names import lookup_key, suggest

# Events build on actors, not the reverse: the link table is named here, not imported.
_event_actor = table("event_actor", column("event_id"), column("actor_id"))


def find_actor_id(session: Session, name: str) -> str | None:
    """The id of the actor whose id, name or alias is `name` (case-insensitive)."""
    key = lookup_key(name)
    query = union(
        select(col(Actor.id)).where(func.lower(col(Actor.id)) == key),
        select(col(Actor.id)).where(func.lower(col(Actor.name)) == key),
        select(col(ActorAlias.actor_id)).where(col(ActorAlias.key) == key),
    )
    return session.execute(query).scalars().first()


def suggest_actors(session: Session, name: str) -> list[str]:
    names = session.execute(
        union(
            select(col(Actor.id), col(Actor.id)),
            select(col(Actor.name), col(Actor.id)),
            select(col(ActorAlias.alias), col(ActorAlias.actor_id)),
        )
    ).all()
    return suggest(name, [(n, i) for n, i in names])


def descendant_ids(session: Session, actor_ids: Sequence[str]) -> set[str]:
    """The actors themselves and every actor below them in the hierarchy."""
    tree = select(col(Actor.id)).where(col(Actor.id).in_(actor_ids)).cte("tree", recursive=True)
    tree = tree.union_all(select(col(Actor.id)).where(col(Actor.parent_id) == tree.c.id))
    return set(session.execute(select(tree.c.id)).scalars())


def ancestors(session: Session, actor: Actor) -> list[Actor]:
    """Parent, grandparent… up to the root."""
    chain = (
        select(col(Actor.id), col(Actor.parent_id), literal(0).label("depth"))
        .where(col(Actor.id) == actor.parent_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        select(col(Actor.id), col(Actor.parent_id), (chain.c.depth + 1).label("depth")).where(
            col(Actor.id) == chain.c.parent_id
        )
    )
    rows = session.execute(
        select(Actor).join(chain, chain.c.id == col(Actor.id)).order_by(chain.c.depth)
    ).scalars()
    return list(rows)


def aliases_by_actor(session: Session, actor_ids: Sequence[str]) -> dict[str, list[str]]:
    rows = session.execute(
        select(col(ActorAlias.actor_id), col(ActorAlias.alias))
        .where(col(ActorAlias.actor_id).in_(actor_ids))
        .order_by(col(ActorAlias.id))
    ).all()
    result: dict[str, list[str]] = {}
    for actor_id, alias in rows:
        result.setdefault(actor_id, []).append(alias)
    return result


def list_actors(
    session: Session, *, kind: str | None, q: str | None, after_id: str | None, limit: int
) -> tuple[list[ActorPublic], int]:
    """A page of actors ordered by id, and how many match in all."""
    query = select(Actor)
    if kind is not None:
        query = query.where(col(Actor.kind) == kind)
    if q:
        pattern = f"%{lookup_key(q)}%"
        named = select(col(ActorAlias.actor_id)).where(col(ActorAlias.key).like(pattern))
        query = query.where(
            func.lower(col(Actor.name)).like(pattern)
            | col(Actor.id).like(pattern)
            | col(Actor.id).in_(named)
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if after_id is not None:
        query = query.where(col(Actor.id) > after_id)
    actors = list(session.execute(query.order_by(col(Actor.id)).limit(limit)).scalars())
    return to_public(session, actors), total


def to_public(session: Session, actors: Sequence[Actor]) -> list[ActorPublic]:
    parent_ids = {a.parent_id for a in actors if a.parent_id}
    parents = {
        p.id: p
        for p in session.execute(select(Actor).where(col(Actor.id).in_(parent_ids))).scalars()
    }
    aliases = aliases_by_actor(session, [a.id for a in actors])
    return [
        ActorPublic(
            id=a.id,
            name=a.name,
            kind=a.kind,
            country_code=a.country_code,
            wikidata_id=a.wikidata_id,
            description=a.description,
            parent=_ref(parents[a.parent_id]) if a.parent_id in parents else None,
            aliases=aliases.get(a.id, []),
        )
        for a in actors
    ]


def _ref(actor: Actor) -> ActorRef:
    return ActorRef(id=actor.id, name=actor.name, kind=actor.kind)


def actor_detail(session: Session, actor: Actor) -> ActorDetail:
    public = to_public(session, [actor])[0]
    children = session.execute(
        select(Actor).where(col(Actor.parent_id) == actor.id).order_by(col(Actor.id))
    ).scalars()
    family = descendant_ids(session, [actor.id])
    count = session.execute(
        select(func.count(func.distinct(_event_actor.c.event_id))).where(
            _event_actor.c.actor_id.in_(family)
        )
    ).scalar_one()
    return ActorDetail(
        **public.model_dump(),
        children=[_ref(c) for c in children],
        ancestors=[_ref(a) for a in ancestors(session, actor)],
        event_count=count,
    )
