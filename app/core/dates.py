"""Dates with a precision: parsing, widening to a period, and human labels."""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator


def today() -> date:
    """Today's date in UTC: the day against which planned dates have passed or not."""
    return datetime.now(UTC).date()


class Precision(StrEnum):
    day = "day"
    month = "month"
    year = "year"
    decade = "decade"


class Qualifier(StrEnum):
    exact = "exact"
    circa = "circa"
    by = "by"
    after = "after"


class ClaimQualifier(StrEnum):
    """How a source words a date it claims: the event qualifiers, and "until" for a time frame
    that runs up to that date ("our work until 2024"), which is not a date the event happens."""

    exact = "exact"
    circa = "circa"
    by = "by"
    after = "after"
    until = "until"


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _iso_text(value: object) -> object:
    # Pydantic would read a bare number as a Unix timestamp; the schema promises ISO 8601.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("use ISO 8601 (2021-12-31, or 2021-12-31T00:00:00Z), not a number")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
"""A date given as ISO 8601 text: `2021-12-31`."""
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
"""A moment given as ISO 8601 text: `2021-12-31T00:00:00Z`."""

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MONTHS = [calendar.month_name[m] for m in range(13)]
_MONTHS_SHORT = [calendar.month_abbr[m] for m in range(13)]


@dataclass(frozen=True)
class PartialDate:
    """A date known to a precision: `2021`, `2021-03` or `2021-03-09`."""

    value: date
    precision: Precision

    @property
    def first_day(self) -> date:
        return self.value

    @property
    def last_day(self) -> date:
        return period_end(self.value, self.precision)


def parse_partial_date(text: str) -> PartialDate:
    """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; raise ValueError with a reader's message."""
    match = _PARTIAL.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        if day is not None:
            return PartialDate(date(int(year), int(month), int(day)), Precision.day)
        if month is not None:
            return PartialDate(date(int(year), int(month), 1), Precision.month)
        return PartialDate(date(int(year), 1, 1), Precision.year)
    except ValueError:
        raise ValueError(f"'{text}' is not a real calendar date") from None


def period_start(value: date, precision: Precision) -> date:
    """The first day of the period that contains `value`."""
    if precision is Precision.day:
        return value
    if precision is Precision.month:
        return value.replace(day=1)
    if precision is Precision.year:
        return date(value.year, 1, 1)
    return date(value.year - value.year % 10, 1, 1)


def period_end(value: date, precision: Precision) -> date:
    """The last day of the period that starts at `value` (a decade covers ten years)."""
    if precision is Precision.day:
        return value
    if precision is Precision.month:
        return value.replace(day=calendar.monthrange(value.year, value.month)[1])
    if precision is Precision.year:
        return date(value.year, 12, 31)
    return date(value.year - value.year % 10 + 9, 12, 31)


def is_period_start(value: date, precision: Precision) -> bool:
    """True when `value` is stored as its period's first day, as the data model requires."""
    return period_start(value, precision) == value


def format_date(value: date, precision: Precision) -> str:
    """`9 March 2021`, `March 2021`, `2021` or `2030s`."""
    if precision is Precision.day:
        return f"{value.day} {_MONTHS[value.month]} {value.year}"
    if precision is Precision.month:
        return f"{_MONTHS[value.month]} {value.year}"
    if precision is Precision.year:
        return str(value.year)
    return f"{value.year - value.year % 10}s"


def _format_short(value: date, precision: Precision) -> str:
    if precision is Precision.day:
        return f"{value.day} {_MONTHS_SHORT[value.month]} {value.year}"
    if precision is Precision.month:
        return f"{_MONTHS_SHORT[value.month]} {value.year}"
    return format_date(value, precision)


_QUALIFIER_WORDS = {"circa": "c.", "by": "by", "after": "after", "until": "until"}


def date_label(
    start: date,
    end: date | None,
    precision: Precision,
    qualifier: Qualifier | ClaimQualifier = Qualifier.exact,
) -> str:
    """A human label: `9 March 2021`, `2024–2025`, `Feb 1986 – Mar 2001`, `by 2030`."""
    if end is None or end == start:
        text = format_date(start, precision)
    elif precision in (Precision.year, Precision.decade):
        text = f"{format_date(start, precision)}–{format_date(end, precision)}"
    else:
        text = f"{_format_short(start, precision)} – {_format_short(end, precision)}"
    word = _QUALIFIER_WORDS.get(qualifier)
    return f"{word} {text}" if word else text
