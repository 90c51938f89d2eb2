"""What several renderers share: the period an event covers, ISO dates to a precision, sources."""

from datetime import date

from app.core.dates import Precision, period_end
from app.events.models import EventPublic
from app.sources.models import SourceRef


def covered_end(event: EventPublic) -> date:
    """The last day the event covers: its end (or its start) widened to its precision."""
    return period_end(event.end_date or event.start_date, event.date_precision)


def iso_date(value: date, precision: Precision) -> str:
    """ISO 8601 cut to a precision: `2021-03-09`, `2021-03`, `2024`; a decade gives the year."""
    if precision is Precision.day:
        return value.isoformat()
    if precision is Precision.month:
        return f"{value.year:04d}-{value.month:02d}"
    return f"{value.year:04d}"


def cited_sources(event: EventPublic) -> list[SourceRef]:
    """Every source the event's citations quote, once each, in citation order."""
    sources: dict[str, SourceRef] = {}
    for citation in event.citations:
        sources.setdefault(citation.source.id, citation.source)
    return list(sources.values())


def shown_date(event: EventPublic) -> str:
    """The date label, marked `(disputed)` when the sources disagree on the date."""
    return f"{event.date_label} (disputed)" if event.disputed else event.date_label
