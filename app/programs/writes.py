"""Creating, changing and deleting programs, with their history."""

from typing import Any

from pydantic import Field
from sqlalchemy import column, delete, select, table
from sqlmodel import Session, col

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
from app.programs.models import Program, ProgramAlias

_event_program = table("event_program", column("event_id"), column("program_id"))


class ProgramCreate(WriteModel):
    id: str = Field(pattern=SLUG, max_length=80, examples=["gateway"])
    name: str = Field(min_length=1, max_length=200, examples=["Lunar Gateway"])
    description: str | None = Field(default=None, max_length=2000)
    aliases: list[str] = Field(default=[], max_length=50)
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)


class ProgramUpdate(WriteModel):
    name: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=never_null
    )
    description: str | None = Field(default=None, max_length=2000)
    aliases: list[str] | None = Field(default=None, max_length=50)
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)


def program_snapshot(session: Session, program: Program) -> Snapshot:
    aliases = session.execute(
        select(col(ProgramAlias.alias))
        .where(col(ProgramAlias.program_id) == program.id)
        .order_by(col(ProgramAlias.id))
    ).scalars()
    snapshot: dict[str, Any] = {"name": program.name, "description": program.description}
    snapshot["aliases"] = list(aliases)
    return snapshot


PROGRAM = Tracked(Entity.program, program_snapshot)


def _set_names(session: Session, program: Program, aliases: list[str]) -> None:
    """The program's id, name and aliases become its names (409 if another has one)."""
    claim_names(session, NameScope.program, program.id, [program.id, program.name, *aliases])
    session.execute(delete(ProgramAlias).where(col(ProgramAlias.program_id) == program.id))
    session.flush()
    for alias in distinct_aliases(aliases, [program.id, program.name]):
        session.add(ProgramAlias(program_id=program.id, alias=alias, key=lookup_key(alias)))


def create_program(
    session: Session, data: ProgramCreate, *, author: str, reason: str | None
) -> Program:
    if session.get(Program, data.id) is not None:
        raise ConflictError(f"a program with id '{data.id}' already exists")
    program = Program(id=data.id, name=data.name, description=data.description, updated_by=author)
    with recorded(session, PROGRAM, program, Action.create, author=author, reason=reason):
        session.add(program)
        session.flush()
        _set_names(session, program, data.aliases)
    return program


def update_program(
    session: Session, program: Program, data: ProgramUpdate, *, author: str, reason: str | None
) -> Program:
    """Apply the fields given; the events naming the program follow its revision."""
    before_aliases = program_snapshot(session, program)["aliases"]
    with recorded(session, PROGRAM, program, Action.update, author=author, reason=reason):
        if "name" in data.model_fields_set:
            if data.name is None:
                raise InvalidDataError("name cannot be null")
            program.name = data.name
        if "description" in data.model_fields_set:
            program.description = data.description
        aliases = before_aliases if data.aliases is None else data.aliases
        _set_names(session, program, aliases)
    return program


def delete_program(session: Session, program: Program, *, author: str, reason: str | None) -> None:
    """Delete a program no event belongs to; 409 naming the events otherwise."""
    events = referrers(session, _event_program.c.event_id, _event_program.c.program_id, program.id)
    if events:
        raise ConflictError(
            f"program '{program.id}' is still used by these events: {', '.join(events)}",
            events=events,
        )
    with recorded(session, PROGRAM, program, Action.delete, author=author, reason=reason):
        session.delete(program)
