"""The event filters as query parameters, documented for journalists."""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.dates import IsoDate, IsoDateTime, parse_partial_date
from app.events.models import ActorRole, EventKind, EventStatus

Year = Annotated[int, Field(ge=1900, le=2200)]
# Each value is a condition in the query: thousands of them overflow SQLite's expression tree.
MAX_VALUES = 50
# Documented in the schema, checked by `_partial_date` with a message a journalist can follow.
PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class EventFilters(BaseModel):
    """Filters shared by every event query: lists, facets, timeline and exports."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    actor: list[str] = Field(
        default=[],
        max_length=MAX_VALUES,
        description=(
            "An actor by id, name or alias, any case (`roscosmos`, `Russian space agency`, "
            "`U.S.`). Includes the actors below it: `russia` also finds Roscosmos events. "
            "Repeat it to name several."
        ),
        examples=[["roscosmos"]],
    )
    actor_match: Literal["any", "all"] = Field(
        default="any",
        description="With several actors: `any` (either of them) or `all` (every one of them).",
        examples=["any"],
    )
    role: ActorRole | None = Field(
        default=None,
        description=(
            "Only count actors in this role, e.g. `declined` with `actor=russia` finds what "
            "Russia declined to join."
        ),
        examples=["signatory"],
    )
    year: list[Year] = Field(
        default=[],
        max_length=MAX_VALUES,
        description=(
            "Events that overlap this year (1900–2200): a 2024–2025 plan matches 2024 and "
            "2025. Repeat for several years (either one)."
        ),
        examples=[[2021]],
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        json_schema_extra={"pattern": PARTIAL_DATE.pattern},
        description="Events that end on or after this date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.",
        examples=["2020"],
    )
    to: str | None = Field(
        default=None,
        json_schema_extra={"pattern": PARTIAL_DATE.pattern},
        description=(
            "Events that start on or before this date, inclusive: `to=2021` means through "
            "31 December 2021."
        ),
        examples=["2022-06"],
    )
    program: list[str] = Field(
        default=[],
        max_length=MAX_VALUES,
        description="A program by id, name or alias (`iss`, `ILRS`, `ISLS`). Repeatable.",
        examples=[["ilrs"]],
    )
    kind: list[EventKind] = Field(
        default=[],
        max_length=MAX_VALUES,
        description="Kind of event. Repeatable.",
        examples=[["agreement"]],
    )
    status: list[EventStatus] = Field(
        default=[],
        max_length=MAX_VALUES,
        description="`occurred`, `planned` or `cancelled`, as the sources report it.",
        examples=[["occurred"]],
    )
    source: list[str] = Field(
        default=[],
        max_length=MAX_VALUES,
        description="Events supported by this source: its id or its document's file name.",
        examples=[["003_8e854a67f184ff0b.txt"]],
    )
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words to find in titles, summaries and quotes.",
        examples=["memorandum"],
    )

    min_sources: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Only events corroborated by at least this many different sources.",
        examples=[1],
    )
    as_reported_on: IsoDate | None = Field(
        default=None,
        description=(
            "Show the timeline as the press had reported it by this day (`YYYY-MM-DD`): only "
            "citations from sources published by then count, and events without any drop out."
        ),
        examples=["2021-12-31"],
    )

    changed_since: IsoDateTime | None = Field(
        default=None,
        description=(
            "Only events created or changed at or after this moment (ISO 8601). Deletions are "
            "in `/api/v1/changes`."
        ),
        examples=["2021-01-01T00:00:00Z"],
    )

    @field_validator("from_", "to")
    @classmethod
    def _partial_date(cls, value: str | None) -> str | None:
        if value is not None:
            if not PARTIAL_DATE.fullmatch(value):
                raise ValueError(f"'{value}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
            parse_partial_date(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "EventFilters":
        if self.from_ and self.to and self.start_bound > self.end_bound:  # type: ignore[operator]
            raise ValueError(f"'from' ({self.from_}) is after 'to' ({self.to})")
        return self

    @property
    def start_bound(self) -> date | None:
        return parse_partial_date(self.from_).first_day if self.from_ else None

    @property
    def end_bound(self) -> date | None:
        return parse_partial_date(self.to).last_day if self.to else None


class EventListQuery(EventFilters):
    """Filters plus order and paging, for lists of events."""

    sort: Literal["date", "-date", "relevance"] | None = Field(
        default=None,
        description=(
            "`date` (oldest first, the default), `-date` (newest first) or `relevance` "
            "(best match for `q` first; the default when `q` is given)."
        ),
        examples=["-date"],
    )
    limit: int = Field(
        default=50, ge=1, le=200, description="Events per page (1–200).", examples=[20]
    )
    cursor: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Leave empty for the first page; then paste the `next_cursor` of the previous "
            "page. Only valid with the same filters, sort and limit."
        ),
    )
