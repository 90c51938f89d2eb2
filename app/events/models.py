"""Events, the actors and programs they involve, and the citations that support them."""

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlmodel import Field, SQLModel

from app.actors.models import ActorKind
from app.core.dates import ClaimQualifier, Precision, Qualifier
from app.core.models import Identified, RowMeta, bytewise, enum_check
from app.sources.models import SourceRef


class EventStatus(StrEnum):
    occurred = "occurred"
    planned = "planned"
    cancelled = "cancelled"


class EventKind(StrEnum):
    launch = "launch"
    agreement = "agreement"
    withdrawal = "withdrawal"
    announcement = "announcement"
    mission = "mission"
    statement = "statement"
    conflict = "conflict"
    milestone = "milestone"


class ActorRole(StrEnum):
    signatory = "signatory"
    partner = "partner"
    initiator = "initiator"
    participant = "participant"
    operator = "operator"
    withdrawing = "withdrawing"
    declined = "declined"
    speaker = "speaker"
    subject = "subject"


class DateSource(StrEnum):
    """Where the event's date comes from: the articles, or the public record (SPEC §5)."""

    article = "article"
    public_record = "public_record"


class EventBase(SQLModel):
    title: str = Field(max_length=300)
    summary: str = Field(sa_type=Text)
    start_date: date = Field(description="First day of the event, stored to its precision.")
    end_date: date | None = Field(
        default=None, description="First day of the last period the event covers, if a span."
    )
    date_precision: Precision = Field(sa_type=String(10))
    date_qualifier: Qualifier = Field(default=Qualifier.exact, sa_type=String(10))
    date_source: DateSource = Field(
        default=DateSource.article,
        sa_type=String(20),
        description="`public_record` when the articles date it loosely and the record is exact.",
    )
    status: EventStatus = Field(sa_type=String(20), index=True)
    kind: EventKind = Field(sa_type=String(20), index=True)
    location: str | None = Field(default=None, max_length=300)


class Event(EventBase, RowMeta, table=True):
    __table_args__ = (
        CheckConstraint(enum_check("date_precision", list(Precision)), name="date_precision"),
        CheckConstraint(enum_check("date_qualifier", list(Qualifier)), name="date_qualifier"),
        CheckConstraint(enum_check("date_source", list(DateSource)), name="date_source"),
        CheckConstraint(enum_check("status", list(EventStatus)), name="status"),
        CheckConstraint(enum_check("kind", list(EventKind)), name="kind"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        Index("ix_event_start_date_id", "start_date", "id"),
        Index("ix_event_span_end", "span_end"),
    )

    id: str = Field(primary_key=True, max_length=120, sa_type=bytewise(120))
    span_end: date = Field(
        description="Last day the event covers: its end (or start) widened to its precision."
    )


class EventActor(SQLModel, table=True):
    __tablename__ = "event_actor"
    __table_args__ = (
        CheckConstraint(enum_check("role", list(ActorRole)), name="role"),
        Index("ix_event_actor_actor_id_role", "actor_id", "role", "event_id"),
    )

    event_id: str = Field(
        foreign_key="event.id", primary_key=True, ondelete="CASCADE", sa_type=bytewise()
    )
    actor_id: str = Field(
        foreign_key="actor.id", primary_key=True, ondelete="RESTRICT", sa_type=bytewise()
    )
    role: str = Field(primary_key=True, max_length=20)
    position: int = Field(default=0)


class EventProgram(SQLModel, table=True):
    __tablename__ = "event_program"
    __table_args__ = (Index("ix_event_program_program_id", "program_id", "event_id"),)

    event_id: str = Field(
        foreign_key="event.id", primary_key=True, ondelete="CASCADE", sa_type=bytewise()
    )
    program_id: str = Field(
        foreign_key="program.id", primary_key=True, ondelete="RESTRICT", sa_type=bytewise()
    )


class EventYear(SQLModel, table=True):
    """One row for each year an event covers: the index behind `year=` and the timeline.

    Ordered by (year, start_date, event_id), a year's events come out already sorted, so a
    page costs the same whatever the table's size. Maintained with the event's dates. The
    (event_id, year, start_date) index answers "is this event in that year, and when" from
    the index alone, for queries driven by a few actors' events.
    """

    __tablename__ = "event_year"
    __table_args__ = (Index("ix_event_year_event_id_year", "event_id", "year", "start_date"),)

    year: int = Field(primary_key=True)
    start_date: date = Field(primary_key=True)
    event_id: str = Field(
        foreign_key="event.id",
        primary_key=True,
        ondelete="CASCADE",
        max_length=120,
        sa_type=bytewise(120),
    )


class EventReach(SQLModel, table=True):
    """One row for each actor an event involves — directly or through an actor below it —
    and each year the event covers (app/events/reach.py): the index behind `actor=` with
    `year=`, read in page order."""

    __tablename__ = "event_reach"
    __table_args__ = (Index("ix_event_reach_event_id", "event_id"),)

    actor_id: str = Field(primary_key=True, max_length=120, sa_type=bytewise(120))
    year: int = Field(primary_key=True)
    start_date: date = Field(primary_key=True)
    event_id: str = Field(
        foreign_key="event.id",
        primary_key=True,
        ondelete="CASCADE",
        max_length=120,
        sa_type=bytewise(120),
    )


class EventDocument(SQLModel, table=True):
    """Each event's JSON as the list shows it, built at write time (app/events/documents.py):
    a page of events is read from here rather than assembled from five tables."""

    __tablename__ = "event_document"

    event_id: str = Field(
        foreign_key="event.id",
        primary_key=True,
        ondelete="CASCADE",
        max_length=120,
        sa_type=bytewise(120),
    )
    body: str = Field(sa_type=Text)
    # The event's last day while it is planned (None otherwise): after it,
    # `planned_date_passed` shows true without the event being read.
    planned_end: date | None = None


class CitationBase(SQLModel):
    quote: str = Field(
        sa_type=Text,
        min_length=1,
        description="The supporting sentence, verbatim (whitespace normalised).",
    )
    claimed_date: date | None = Field(
        default=None, description="The event's date as this source states it."
    )
    claimed_date_precision: Precision | None = Field(default=None, sa_type=String(10))
    claimed_date_qualifier: ClaimQualifier | None = Field(default=None, sa_type=String(10))
    claimed_date_inferred: bool | None = Field(
        default=None,
        description=(
            "True when the source does not state the claimed date in full and part of it is"
            ' worked out, e.g. the year of "in February" from the article\'s estimated'
            " publication date (`note` says how); null when no date is claimed."
        ),
    )
    note: str | None = Field(default=None, sa_type=Text, description="How to read the quote.")


class Citation(CitationBase, RowMeta, table=True):
    __table_args__ = (
        CheckConstraint(
            enum_check("claimed_date_precision", list(Precision)), name="claimed_precision"
        ),
        CheckConstraint(
            enum_check("claimed_date_qualifier", list(ClaimQualifier)), name="claimed_qualifier"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(
        foreign_key="event.id", index=True, ondelete="CASCADE", sa_type=bytewise()
    )
    source_id: str = Field(
        foreign_key="source.id", index=True, ondelete="RESTRICT", sa_type=bytewise()
    )
    position: int = Field(default=0)


class EventActorPublic(SQLModel):
    id: str = Field(schema_extra={"examples": ["roscosmos"]})
    name: str
    kind: ActorKind
    role: ActorRole


class CitationPublic(CitationBase):
    id: int
    claimed_date_label: str | None = Field(
        description="The claimed date in words, e.g. `by 2025`; null when the source gives none."
    )
    source: SourceRef


class DateClaim(SQLModel):
    """One date as some sources state it; several claims make an event disputed."""

    label: str = Field(schema_extra={"examples": ["by 2025"]})
    date: date
    precision: Precision
    qualifier: ClaimQualifier
    source_ids: list[str]
    citation_ids: list[int]


class EventPublic(EventBase, Identified):
    id: str = Field(schema_extra={"examples": ["ilrs-memorandum"]})
    date_label: str = Field(schema_extra={"examples": ["9 March 2021"]})
    disputed: bool = Field(description="True when the citations claim different dates.")
    planned_date_passed: bool = Field(
        description="Still `planned` in the sources although its date is in the past."
    )
    source_count: int = Field(description="How many distinct sources support the event.")
    date_claims: list[DateClaim] = Field(
        description="Each distinct date the sources claim, with who claims it."
    )
    actors: list[EventActorPublic]
    programs: list["ProgramRefPublic"]
    citations: list[CitationPublic]


class ProgramRefPublic(SQLModel):
    id: str
    name: str


EventPublic.model_rebuild()
