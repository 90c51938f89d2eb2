"""CSV export: RFC 4180, one header row and one row per event, safe to open in a spreadsheet."""

import re
from collections.abc import Iterable, Iterator

from app.events.models import EventPublic

# No byte-order mark by default: RFC 4180 and most consumers (Python's csv, pandas, csvkit,
# awk) read a BOM as part of the first column's name, and the response's Content-Type already
# says charset=utf-8. Excel on Windows ignores that header and guesses a legacy code page,
# garbling curly quotes and dashes; `bom=True` is for that download.
BOM = b"\xef\xbb\xbf"
HEADER = (
    "id",
    "title",
    "summary",
    "start_date",
    "end_date",
    "date_precision",
    "date_qualifier",
    "date_label",
    "status",
    "kind",
    "location",
    "disputed",
    "planned_date_passed",
    "source_count",
    "actors",
    "actor_roles",
    "programs",
    "sources",
    "citation_count",
)
# OWASP "CSV injection": a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def render_csv(events: Iterable[EventPublic], *, bom: bool = False) -> Iterator[bytes]:
    """The header row, then one CRLF-terminated UTF-8 row per event."""
    header = _row(HEADER)
    yield (BOM + header) if bom else header
    for event in events:
        yield _row(_cells(event))


def _cells(event: EventPublic) -> list[str]:
    return [
        event.id,
        event.title,
        event.summary,
        event.start_date.isoformat(),
        event.end_date.isoformat() if event.end_date else "",
        event.date_precision,
        event.date_qualifier,
        event.date_label,
        event.status,
        event.kind,
        event.location or "",
        _flag(event.disputed),
        _flag(event.planned_date_passed),
        str(event.source_count),
        ";".join(dict.fromkeys(actor.id for actor in event.actors)),
        ";".join(f"{actor.id}:{actor.role}" for actor in event.actors),
        ";".join(program.id for program in event.programs),
        ";".join(dict.fromkeys(citation.source.id for citation in event.citations)),
        str(len(event.citations)),
    ]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _row(cells: Iterable[str]) -> bytes:
    return (",".join(_cell(cell) for cell in cells) + "\r\n").encode()


def _cell(value: str) -> str:
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    if _NEEDS_QUOTES.search(value):
        value = '"' + value.replace('"', '""') + '"'
    return value
