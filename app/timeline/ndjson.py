"""NDJSON export: each event's full public JSON, one compact object per line."""

from collections.abc import Iterable, Iterator

import orjson

from app.events.models import EventPublic


def render_ndjson(events: Iterable[EventPublic]) -> Iterator[bytes]:
    """One `\\n`-terminated JSON object per event, exactly as the JSON API shows it."""
    for event in events:
        yield orjson.dumps(event.model_dump(mode="json"), option=orjson.OPT_APPEND_NEWLINE)
