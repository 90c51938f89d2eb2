"""iCalendar export (RFC 5545): one all-day VEVENT per event, covering its dated period."""

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from app.events.models import EventPublic, EventStatus
from app.timeline.common import cited_sources, covered_end, shown_date

PRODID = "-//Space Cooperation Timeline//Exports//EN"
_STATUS = {
    EventStatus.occurred: "CONFIRMED",
    EventStatus.planned: "TENTATIVE",
    EventStatus.cancelled: "CANCELLED",
}
# RFC 5545 TEXT allows no control characters but tab; line breaks are escaped, not dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_OCTETS = 75


def render_ics(
    events: Iterable[EventPublic],
    *,
    dtstamp: datetime,
    calendar_name: str = "Space Cooperation Timeline",
) -> Iterator[bytes]:
    """A VCALENDAR: its header, one VEVENT per event, then its end; `dtstamp` is the data's age."""
    stamp = _utc(dtstamp)
    yield _lines(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            f"PRODID:{PRODID}",
            "CALSCALE:GREGORIAN",
            # A published feed, not an invitation: clients subscribe instead of offering RSVPs.
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{escape_text(calendar_name)}",
        ]
    )
    for event in events:
        yield _lines(_vevent(event, stamp))
    yield _lines(["END:VCALENDAR"])


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, `;` and `,` escaped, line breaks as `\\n`."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    for char in "\\;,":
        value = value.replace(char, "\\" + char)
    return value.replace("\n", "\\n")


def fold_line(line: str) -> bytes:
    """One content line, CRLF-terminated, folded at 75 octets without splitting a character."""
    data = line.encode()
    parts = []
    limit = _LINE_OCTETS
    while len(data) > limit:
        cut = limit
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back up to its lead byte
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = _LINE_OCTETS - 1  # continuation lines spend one octet on the leading space
    parts.append(data)
    return b"\r\n ".join(parts) + b"\r\n"


def _vevent(event: EventPublic, stamp: str) -> list[str]:
    title = f"Planned: {event.title}" if event.status is EventStatus.planned else event.title
    categories = [event.kind, *(program.name for program in event.programs)]
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.id}@space-timeline",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{_ical_date(event.start_date)}",
        # DTEND is exclusive: the day after the last day of the covered period.
        f"DTEND;VALUE=DATE:{_ical_date(covered_end(event) + timedelta(days=1))}",
        f"SUMMARY:{escape_text(title)}",
        f"DESCRIPTION:{escape_text(_description(event))}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    lines += [
        f"CATEGORIES:{','.join(escape_text(category) for category in categories)}",
        f"STATUS:{_STATUS[event.status]}",
        # Year-long history must not show the subscriber as busy for a year.
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]
    return lines


def _description(event: EventPublic) -> str:
    when = shown_date(event)
    if event.planned_date_passed:
        when += " (planned date passed)"
    lines = [event.summary, "", f"Date: {when}"]
    sources = cited_sources(event)
    if sources:
        lines += ["", "Sources:"]
        lines += [
            f"- {source.title} ({source.publisher})" if source.publisher else f"- {source.title}"
            for source in sources
        ]
    return "\n".join(lines)


def _ical_date(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _utc(moment: datetime) -> str:
    # Timestamps are stored in UTC; SQLite hands them back naive, so naive means UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _lines(lines: list[str]) -> bytes:
    return b"".join(fold_line(line) for line in lines)
