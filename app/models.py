"""Every table, imported once, for Alembic and tests."""

from sqlmodel import SQLModel

from app.actors.models import Actor, ActorAlias
from app.auth.models import ApiToken
from app.core.idempotency import IdempotencyKey
from app.core.meta import AppSecret, DataVersion, SeedRecord
from app.core.names import NameKey
from app.events.models import Citation, Event, EventActor, EventProgram, EventYear
from app.history.models import Revision
from app.programs.models import Program, ProgramAlias
from app.sources.models import Source

metadata = SQLModel.metadata

__all__ = [
    "Actor",
    "ActorAlias",
    "ApiToken",
    "AppSecret",
    "Citation",
    "DataVersion",
    "Event",
    "EventActor",
    "EventProgram",
    "EventYear",
    "IdempotencyKey",
    "NameKey",
    "Program",
    "ProgramAlias",
    "Revision",
    "SeedRecord",
    "Source",
    "metadata",
]
