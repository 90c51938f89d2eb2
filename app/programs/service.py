"""Queries on programs: lookup by any name, lists and details."""

from collections.abc import Sequence

from sqlalchemy import column, func, select, table, union
from sqlmodel import Session, col

from app.core.names import lookup_key, suggest
from app.programs.models import Program, ProgramAlias, ProgramDetail, ProgramPublic

# Events build on programs, not the reverse: the link table is named here, not imported.
_event_program = table("event_program", column("event_id"), column("program_id"))


def find_program_id(session: Session, name: str) -> str | None:
    """The id of the program whose id, name or alias is `name` (case-insensitive)."""
    key = lookup_key(name)
    query = union(
        select(col(Program.id)).where(func.lower(col(Program.id)) == key),
        select(col(Program.id)).where(func.lower(col(Program.name)) == key),
        select(col(ProgramAlias.program_id)).where(col(ProgramAlias.key) == key),
    )
    return session.execute(query).scalars().first()


def suggest_programs(session: Session, name: str) -> list[str]:
    names = session.execute(
        union(
            select(col(Program.id), col(Program.id)),
            select(col(Program.name), col(Program.id)),
            select(col(ProgramAlias.alias), col(ProgramAlias.program_id)),
        )
    ).all()
    return suggest(name, [(n, i) for n, i in names])


def list_programs(
    session: Session, *, q: str | None, after_id: str | None, limit: int
) -> tuple[list[ProgramPublic], int]:
    query = select(Program)
    if q:
        pattern = f"%{lookup_key(q)}%"
        named = select(col(ProgramAlias.program_id)).where(col(ProgramAlias.key).like(pattern))
        query = query.where(
            func.lower(col(Program.name)).like(pattern)
            | col(Program.id).like(pattern)
            | col(Program.id).in_(named)
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if after_id is not None:
        query = query.where(col(Program.id) > after_id)
    programs = list(session.execute(query.order_by(col(Program.id)).limit(limit)).scalars())
    return to_public(session, programs), total


def to_public(session: Session, programs: Sequence[Program]) -> list[ProgramPublic]:
    rows = session.execute(
        select(col(ProgramAlias.program_id), col(ProgramAlias.alias))
        .where(col(ProgramAlias.program_id).in_([p.id for p in programs]))
        .order_by(col(ProgramAlias.id))
    ).all()
    aliases: dict[str, list[str]] = {}
    for program_id, alias in rows:
        aliases.setdefault(program_id, []).append(alias)
    return [
        ProgramPublic(
            id=p.id, name=p.name, description=p.description, aliases=aliases.get(p.id, [])
        )
        for p in programs
    ]


def program_detail(session: Session, program: Program) -> ProgramDetail:
    count = session.execute(
        select(func.count()).where(_event_program.c.program_id == program.id)
    ).scalar_one()
    return ProgramDetail(**to_public(session, [program])[0].model_dump(), event_count=count)
