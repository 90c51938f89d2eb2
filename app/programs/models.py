"""Programs: ISS, Artemis, ILRS and the other projects events belong to."""

from sqlmodel import Field, SQLModel

from app.core.models import Identified, RowMeta, bytewise


class ProgramBase(SQLModel):
    name: str = Field(max_length=200, schema_extra={"examples": ["International Space Station"]})
    description: str | None = Field(default=None, max_length=2000)


class Program(ProgramBase, RowMeta, table=True):
    id: str = Field(primary_key=True, max_length=80, sa_type=bytewise(80))


class ProgramAlias(SQLModel, table=True):
    __tablename__ = "program_alias"

    id: int | None = Field(default=None, primary_key=True)
    program_id: str = Field(
        foreign_key="program.id", index=True, ondelete="CASCADE", sa_type=bytewise()
    )
    alias: str = Field(max_length=200)
    key: str = Field(max_length=200, unique=True)


class ProgramPublic(ProgramBase, Identified):
    id: str = Field(schema_extra={"examples": ["iss"]})
    aliases: list[str]


class ProgramDetail(ProgramPublic):
    event_count: int
