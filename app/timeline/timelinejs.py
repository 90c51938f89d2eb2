"""Knight Lab TimelineJS3 JSON: a title slide and one slide per event, HTML-escaped throughout."""

from collections.abc import Iterable
from datetime import date
from html import escape
from typing import Any

import orjson

from app.core.dates import Precision, Qualifier
from app.events.models import CitationPublic, EventPublic, EventStatus
from app.timeline.common import covered_end, shown_date

# TimelineJS puts headlines, texts, groups and display dates into the page as HTML, so every
# value taken from the data is escaped, whatever the field.


def render_timelinejs(
    events: Iterable[EventPublic],
    *,
    title: str = "Space Cooperation Timeline",
    text: str = "International space cooperation and its break-ups, as the press reported them.",
) -> bytes:
    """A TimelineJS document: the title slide, then one slide per event, as JSON bytes."""
    document = {
        "title": {"text": {"headline": escape(title), "text": f"<p>{escape(text)}</p>"}},
        "events": [event_slide(event) for event in events],
        "scale": "human",
    }
    return orjson.dumps(document)


def event_slide(event: EventPublic) -> dict[str, Any]:
    """One event as a TimelineJS slide, dated to its precision."""
    precision = event.date_precision
    start = _date(event.start_date, precision)
    end = _date(covered_end(event), precision)
    slide: dict[str, Any] = {"unique_id": event.id, "start_date": start}
    if end != start:
        slide["end_date"] = end
    # TimelineJS shows a date as its numbers say; say it ourselves where they cannot:
    # "2030s", "by 2030", "2024-2025 (disputed)".
    unsaid = event.disputed or event.date_qualifier is not Qualifier.exact
    if unsaid or precision is Precision.decade:
        slide["display_date"] = escape(shown_date(event))
    slide["text"] = {"headline": escape(event.title), "text": _body(event)}
    if event.programs:
        slide["group"] = escape(event.programs[0].name)
    return slide


def _date(value: date, precision: Precision) -> dict[str, int]:
    # A decade's slide starts at its first year and ends at its last.
    fields = {"year": value.year}
    if precision in (Precision.month, Precision.day):
        fields["month"] = value.month
    if precision is Precision.day:
        fields["day"] = value.day
    return fields


def _body(event: EventPublic) -> str:
    parts = []
    if event.status is EventStatus.planned:
        passed = " (planned date passed)" if event.planned_date_passed else ""
        parts.append(f"<p><strong>Planned</strong>{passed}</p>")
    elif event.status is EventStatus.cancelled:
        parts.append("<p><strong>Cancelled</strong></p>")
    parts.append(f"<p>{escape(event.summary)}</p>")
    if event.citations:
        # Who dates it how matters only where the sources disagree.
        items = "".join(_item(citation, with_date=event.disputed) for citation in event.citations)
        parts.append(f"<ul>{items}</ul>")
    return "".join(parts)


def _item(citation: CitationPublic, *, with_date: bool) -> str:
    source = citation.source
    text = f"“{escape(citation.quote)}” — <cite>{escape(source.title)}</cite>"
    if source.publisher:
        text += f", {escape(source.publisher)}"
    if with_date and citation.claimed_date_label:
        text += f" (dates it {escape(citation.claimed_date_label)})"
    return f"<li>{text}</li>"
