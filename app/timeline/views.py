"""The grouped timeline view and the export formats, keyed by name."""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.events.models import EventPublic
from app.timeline.csv import render_csv
from app.timeline.ics import render_ics
from app.timeline.jsonld import render_jsonld
from app.timeline.ndjson import render_ndjson

ExportFormat = Literal["csv", "ndjson", "ics", "jsonld"]


class TimelineYear(BaseModel):
    year: int
    events: list[EventPublic]


class TimelinePage(BaseModel):
    """A page of events grouped by the year they start in."""

    years: list[TimelineYear]
    total: int
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TimelineJSDocument(BaseModel):
    """With `format=timelinejs`: a Knight Lab TimelineJS3 document, a title slide and events."""

    title: dict[str, Any] = Field(description="The title slide.")
    events: list[dict[str, Any]] = Field(description="One slide per event, oldest first.")
    scale: Literal["human"]


MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "ics": "text/calendar; charset=utf-8",
    "jsonld": "application/ld+json",
    "timelinejs": "application/json",
}


def renderer(
    name: ExportFormat, *, changed: datetime, base_url: str
) -> Callable[[Iterable[EventPublic]], Iterator[bytes]]:
    """The streaming renderer of an export format, with its parameters bound."""
    if name == "csv":
        return render_csv
    if name == "ndjson":
        return render_ndjson
    if name == "ics":
        return lambda events: render_ics(events, dtstamp=changed)
    return lambda events: render_jsonld(events, base_url=base_url)
