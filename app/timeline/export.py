"""Export files written to disk, byte for byte what the API's export URLs serve."""

from collections.abc import Sequence
from pathlib import Path
from typing import cast, get_args
from urllib.parse import parse_qsl

from pydantic import ValidationError

from app.core.database import Database
from app.core.versioning import last_changed
from app.events.filters import EventFilters
from app.events.reader import EventReader
from app.timeline.timelinejs import render_timelinejs
from app.timeline.views import ExportFormat, renderer

FORMATS = (*get_args(ExportFormat), "timelinejs")


def parse_query(query: str) -> EventFilters:
    """Filters from a query string, validated exactly as the API validates them."""
    pairs = parse_qsl(query, keep_blank_values=True)
    data: dict[str, object] = {}
    for key, value in pairs:
        field = EventFilters.model_fields.get("from_" if key == "from" else key)
        if field is not None and "list" in str(field.annotation):
            cast(list[str], data.setdefault(key, [])).append(value)
        else:
            data[key] = value
    try:
        return EventFilters.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid query: {exc.errors()[0]['msg']}") from None


def export_files(
    database: Database, out: Path, formats: Sequence[str], query: str, base_url: str
) -> list[Path]:
    """Write `events.<format>` (TimelineJS: `timeline.json`) into `out`; return the paths."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; use one of {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    params = parse_query(query)
    reader = EventReader(database)
    written = []
    with database.session() as session:
        changed = last_changed(session)
        for name in formats:
            path = out / ("timeline.json" if name == "timelinejs" else f"events.{name}")
            events = reader.matching(session, params)
            with path.open("wb") as handle:
                if name == "timelinejs":
                    handle.write(render_timelinejs(events))
                else:
                    render = renderer(cast(ExportFormat, name), changed=changed, base_url=base_url)
                    for chunk in render(events):
                        handle.write(chunk)
            written.append(path)
    return written
