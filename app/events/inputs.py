"""What editors send to create and change events and citations."""

from datetime import date
from typing import Self

from pydantic import Field, field_validator, model_validator

from app.core.dates import ClaimQualifier, Precision, Qualifier, is_period_start
from app.core.editing import REASON_HELP, SLUG, WriteModel, never_null
from app.events.models import ActorRole, DateSource, EventKind, EventStatus

REASON = Field(default=None, max_length=1000, description=REASON_HELP)
INFERRED_HELP = (
    "True when part of the claimed date is worked out rather than stated (the year of"
    ' "in February" from the article\'s date); say how in `note`. Ignored without a claimed date.'
)
_Input = WriteModel


def one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if value is not None else None


def date_problems(
    start: date, end: date | None, precision: Precision, where: str = "start_date"
) -> list[str]:
    """What is wrong with an event's dates, as sentences for an editor."""
    problems = []
    if not is_period_start(start, precision):
        problems.append(f"{where} {start} is not the first day of its {precision.value}")
    if end is not None and not is_period_start(end, precision):
        problems.append(f"end_date {end} is not the first day of its {precision.value}")
    if end is not None and end < start:
        problems.append("end_date is before start_date")
    return problems


class ActorLinkIn(_Input):
    id: str = Field(description="Actor id, name or alias.", examples=["roscosmos"])
    role: ActorRole


class CitationCreate(_Input):
    source_id: str = Field(description="Source id or document file name.")
    quote: str = Field(min_length=1, max_length=5000, description="Verbatim sentence(s).")
    claimed_date: date | None = None
    claimed_date_precision: Precision | None = None
    claimed_date_qualifier: ClaimQualifier | None = None
    claimed_date_inferred: bool | None = Field(default=None, description=INFERRED_HELP)
    note: str | None = Field(default=None, max_length=2000)
    reason: str | None = REASON

    _quote = field_validator("quote")(one_line)

    @model_validator(mode="after")
    def _claim(self) -> Self:
        if (self.claimed_date is None) != (self.claimed_date_precision is None):
            raise ValueError("claimed_date and claimed_date_precision go together")
        if self.claimed_date and self.claimed_date_precision:
            problems = date_problems(
                self.claimed_date, None, self.claimed_date_precision, "claimed_date"
            )
            if problems:
                raise ValueError("; ".join(problems))
        return self


class CitationUpdate(_Input):
    source_id: str | None = Field(default=None, json_schema_extra=never_null)
    quote: str | None = Field(
        default=None, min_length=1, max_length=5000, json_schema_extra=never_null
    )
    claimed_date: date | None = None
    claimed_date_precision: Precision | None = None
    claimed_date_qualifier: ClaimQualifier | None = None
    claimed_date_inferred: bool | None = Field(default=None, description=INFERRED_HELP)
    note: str | None = Field(default=None, max_length=2000)
    reason: str | None = REASON

    _quote = field_validator("quote")(one_line)


class EventCreate(_Input):
    id: str | None = Field(
        default=None, pattern=SLUG, max_length=120, description="Defaults to a slug of the title."
    )
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=5000)
    start_date: date = Field(description="First day of the event's period, e.g. 2024-01-01.")
    end_date: date | None = None
    date_precision: Precision
    date_qualifier: Qualifier = Qualifier.exact
    date_source: DateSource = DateSource.article
    status: EventStatus
    kind: EventKind
    location: str | None = Field(default=None, max_length=300)
    actors: list[ActorLinkIn] = Field(min_length=1)
    programs: list[str] = []
    citations: list[CitationCreate] = Field(min_length=1)
    reason: str | None = REASON

    @model_validator(mode="after")
    def _dates(self) -> Self:
        problems = date_problems(self.start_date, self.end_date, self.date_precision)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EventUpdate(_Input):
    title: str | None = Field(
        default=None, min_length=1, max_length=300, json_schema_extra=never_null
    )
    summary: str | None = Field(
        default=None, min_length=1, max_length=5000, json_schema_extra=never_null
    )
    start_date: date | None = Field(default=None, json_schema_extra=never_null)
    end_date: date | None = None
    date_precision: Precision | None = Field(default=None, json_schema_extra=never_null)
    date_qualifier: Qualifier | None = Field(default=None, json_schema_extra=never_null)
    date_source: DateSource | None = Field(default=None, json_schema_extra=never_null)
    status: EventStatus | None = Field(default=None, json_schema_extra=never_null)
    kind: EventKind | None = Field(default=None, json_schema_extra=never_null)
    location: str | None = Field(default=None, max_length=300)
    actors: list[ActorLinkIn] | None = Field(default=None, min_length=1)
    programs: list[str] | None = None
    reason: str | None = REASON
