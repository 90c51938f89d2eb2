"""Creating, changing and deleting actors, with their history."""

from typing import Any

from pydantic import Field
from sqlalchemy import column, delete, table
from sqlmodel import Session, col

from app.actors.models import Actor, ActorAlias, ActorKind
from app.actors.service import aliases_by_actor, descendant_ids, find_actor_id
from app.core.editing import (
    REASON_HELP,
    SLUG,
    ConflictError,
    InvalidDataError,
    WriteModel,
    never_null,
    referrers,
)
from app.core.names import NameScope, claim_names, distinct_aliases, lookup_key
from app.history.models import Action, Entity
from app.history.service import Snapshot, Tracked, recorded

FIELDS = ("name", "kind", "parent_id", "country_code", "wikidata_id", "description")
_event_actor = table("event_actor", column("event_id"), column("actor_id"))


class ActorCreate(WriteModel):
    id: str = Field(pattern=SLUG, max_length=80, examples=["esa"])
    name: str = Field(min_length=1, max_length=200, examples=["European Space Agency"])
    kind: ActorKind
    parent_id: str | None = Field(default=None, description="Id, name or alias of the parent.")
    aliases: list[str] = Field(default=[], max_length=50)
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    wikidata_id: str | None = Field(default=None, pattern=r"^Q[0-9]+$")
    description: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)


class ActorUpdate(WriteModel):
    name: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=never_null
    )
    kind: ActorKind | None = Field(default=None, json_schema_extra=never_null)
    parent_id: str | None = None
    aliases: list[str] | None = Field(default=None, max_length=50)
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    wikidata_id: str | None = Field(default=None, pattern=r"^Q[0-9]+$")
    description: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)


def actor_snapshot(session: Session, actor: Actor) -> Snapshot:
    snapshot: dict[str, Any] = {name: getattr(actor, name) for name in FIELDS}
    snapshot["aliases"] = aliases_by_actor(session, [actor.id]).get(actor.id, [])
    return snapshot


ACTOR = Tracked(Entity.actor, actor_snapshot)


def _set_parent(session: Session, actor: Actor, parent: str | None) -> None:
    if parent is None:
        actor.parent_id = None
        return
    parent_id = find_actor_id(session, parent)
    if parent_id is None:
        raise InvalidDataError(f"unknown parent actor '{parent}'")
    if parent_id in descendant_ids(session, [actor.id]):
        raise InvalidDataError(f"'{parent_id}' is below '{actor.id}': parents cannot form a cycle")
    actor.parent_id = parent_id


def _set_names(session: Session, actor: Actor, aliases: list[str]) -> None:
    """The actor's id, name and aliases become its names (409 if another actor has one)."""
    claim_names(session, NameScope.actor, actor.id, [actor.id, actor.name, *aliases])
    session.execute(delete(ActorAlias).where(col(ActorAlias.actor_id) == actor.id))
    session.flush()
    for alias in distinct_aliases(aliases, [actor.id, actor.name]):
        session.add(ActorAlias(actor_id=actor.id, alias=alias, key=lookup_key(alias)))


def create_actor(session: Session, data: ActorCreate, *, author: str, reason: str | None) -> Actor:
    if session.get(Actor, data.id) is not None:
        raise ConflictError(f"an actor with id '{data.id}' already exists")
    actor = Actor(
        id=data.id,
        updated_by=author,
        **data.model_dump(include={"name", "kind", "country_code", "wikidata_id", "description"}),
    )
    with recorded(session, ACTOR, actor, Action.create, author=author, reason=reason):
        session.add(actor)
        session.flush()
        _set_names(session, actor, data.aliases)
        _set_parent(session, actor, data.parent_id)
    return actor


def update_actor(
    session: Session, actor: Actor, data: ActorUpdate, *, author: str, reason: str | None
) -> Actor:
    """Apply the fields given; the events naming the actor follow its revision."""
    changes = data.model_dump(exclude_unset=True, exclude={"reason", "aliases", "parent_id"})
    before_aliases = actor_snapshot(session, actor)["aliases"]
    with recorded(session, ACTOR, actor, Action.update, author=author, reason=reason):
        for name, value in changes.items():
            if value is None and name in ("name", "kind"):
                raise InvalidDataError(f"{name} cannot be null")
            setattr(actor, name, value)
        aliases = before_aliases if data.aliases is None else data.aliases
        _set_names(session, actor, aliases)
        if "parent_id" in data.model_fields_set:
            _set_parent(session, actor, data.parent_id)
    return actor


def delete_actor(session: Session, actor: Actor, *, author: str, reason: str | None) -> None:
    """Delete an actor no event or other actor refers to; 409 naming them otherwise."""
    events = referrers(session, _event_actor.c.event_id, _event_actor.c.actor_id, actor.id)
    children = referrers(session, col(Actor.id), col(Actor.parent_id), actor.id)
    if events or children:
        raise ConflictError(
            f"actor '{actor.id}' is still referenced: remove it from these events "
            f"({', '.join(events) or 'none'}) and actors ({', '.join(children) or 'none'}) first",
            events=events,
            children=children,
        )
    with recorded(session, ACTOR, actor, Action.delete, author=author, reason=reason):
        session.delete(actor)
