"""Actors: countries, agencies, companies, people and organisations, in a hierarchy."""

from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from app.core.models import Identified, RowMeta, bytewise, enum_check


class ActorKind(StrEnum):
    country = "country"
    agency = "agency"
    company = "company"
    person = "person"
    organization = "organization"


class ActorBase(SQLModel):
    name: str = Field(max_length=200, schema_extra={"examples": ["Roscosmos"]})
    kind: ActorKind = Field(sa_type=String(20), index=True, schema_extra={"examples": ["agency"]})
    country_code: str | None = Field(
        default=None,
        max_length=2,
        description="ISO 3166-1 alpha-2 code of the actor's country.",
        schema_extra={"examples": ["RU"]},
    )
    wikidata_id: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=2000)


class Actor(ActorBase, RowMeta, table=True):
    __table_args__ = (CheckConstraint(enum_check("kind", list(ActorKind)), name="kind"),)

    id: str = Field(primary_key=True, max_length=80, sa_type=bytewise(80))
    parent_id: str | None = Field(
        default=None,
        max_length=80,
        foreign_key="actor.id",
        index=True,
        ondelete="RESTRICT",
        sa_type=bytewise(80),
    )


class ActorAlias(SQLModel, table=True):
    """Another name an actor goes by; `key` is the normalised form used for lookups."""

    __tablename__ = "actor_alias"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: str = Field(
        foreign_key="actor.id", index=True, ondelete="CASCADE", sa_type=bytewise()
    )
    alias: str = Field(max_length=200)
    key: str = Field(max_length=200, unique=True)


class ActorRef(SQLModel):
    """An actor as other resources show it."""

    id: str
    name: str
    kind: ActorKind


class ActorPublic(ActorBase, Identified):
    id: str = Field(schema_extra={"examples": ["roscosmos"]})
    parent: ActorRef | None
    aliases: list[str]


class ActorDetail(ActorPublic):
    children: list[ActorRef]
    ancestors: list[ActorRef] = Field(description="Parent, grandparent… up to the root.")
    event_count: int = Field(description="Events involving this actor or any of its sub-actors.")
