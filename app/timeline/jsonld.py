"""schema.org JSON-LD export: each event an `Event`, its articles `NewsArticle`s with quotes."""

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import orjson

from app.actors.models import ActorKind
from app.core.dates import Precision
from app.events.models import CitationPublic, EventPublic, EventStatus
from app.sources.models import SourceRef
from app.timeline.common import covered_end, iso_date

_OPEN = b'{"@context":"https://schema.org","@graph":[\n'
_CLOSE = b"\n]}\n"
# schema.org has no "completed" status: EventScheduled means "taking place or has taken place
# as scheduled", true of occurred events too, and stating it spares readers the implicit default.
_STATUS = {
    EventStatus.occurred: "https://schema.org/EventScheduled",
    EventStatus.planned: "https://schema.org/EventScheduled",
    EventStatus.cancelled: "https://schema.org/EventCancelled",
}
# `attendee` takes an Organization or a Person. Country is a schema.org Place, which cannot
# attend anything; a state acting as a party is an Organization.
_ACTOR_TYPES = {
    ActorKind.country: "Organization",
    ActorKind.agency: "GovernmentOrganization",
    ActorKind.company: "Corporation",
    ActorKind.person: "Person",
    ActorKind.organization: "Organization",
}


def render_jsonld(events: Iterable[EventPublic], *, base_url: str) -> Iterator[bytes]:
    """A JSON-LD document streamed piece by piece: its opening, each event node, its closing."""
    base = base_url.rstrip("/")
    yield _OPEN
    separator = b""
    for event in events:
        # `<` only occurs inside strings, and as \u003c the document stays safe to paste into
        # an HTML <script type="application/ld+json"> element, the usual home of JSON-LD.
        yield separator + orjson.dumps(event_node(event, base_url=base)).replace(b"<", b"\\u003c")
        separator = b",\n"
    yield _CLOSE


def event_node(event: EventPublic, *, base_url: str) -> dict[str, Any]:
    """One event as a schema.org `Event`, identified by its URL in this API."""
    node: dict[str, Any] = {
        "@type": "Event",
        "@id": _url(base_url, "events", event.id),
        "identifier": event.id,
        "name": event.title,
        "description": event.summary,
        "startDate": iso_date(event.start_date, event.date_precision),
    }
    end = iso_date(covered_end(event), event.date_precision)
    if end != node["startDate"]:
        node["endDate"] = end
    node["eventStatus"] = _STATUS[event.status]
    if event.location:
        node["location"] = {"@type": "Place", "name": event.location}
    if event.actors:
        # A bare attendee would say Russia attended the Accords it declined: the Role pattern
        # (schema.org/Role) keeps each actor's role beside it.
        node["attendee"] = [
            {
                "@type": "Role",
                "roleName": actor.role,
                "attendee": {
                    "@type": _ACTOR_TYPES[actor.kind],
                    "@id": _url(base_url, "actors", actor.id),
                    "identifier": actor.id,
                    "name": actor.name,
                },
            }
            for actor in event.actors
        ]
    # Programs are not events (no superEvent) and isPartOf is for creative works: they are
    # keywords, as DefinedTerms so that each keeps its id, after the event's kind as plain text.
    node["keywords"] = [
        event.kind,
        *(
            {
                "@type": "DefinedTerm",
                "@id": _url(base_url, "programs", program.id),
                "termCode": program.id,
                "name": program.name,
            }
            for program in event.programs
        ),
    ]
    if event.citations:
        node["subjectOf"] = _articles(event.citations, base_url)
    return node


def _articles(citations: list[CitationPublic], base_url: str) -> list[dict[str, Any]]:
    # `citation` is a CreativeWork property, not an Event one: each quote is a Quotation that
    # is part of (hasPart) the NewsArticle it comes from, and the articles are the event's
    # subjectOf.
    articles: dict[str, dict[str, Any]] = {}
    for citation in citations:
        source = citation.source
        if source.id not in articles:
            articles[source.id] = _article(source, base_url)
        articles[source.id]["hasPart"].append(
            {"@type": "Quotation", "identifier": str(citation.id), "text": citation.quote}
        )
    return list(articles.values())


def _article(source: SourceRef, base_url: str) -> dict[str, Any]:
    article: dict[str, Any] = {
        "@type": "NewsArticle",
        "@id": _url(base_url, "sources", source.id),
        "identifier": source.id,
        "headline": source.title,
    }
    if source.publisher:
        article["publisher"] = {"@type": "Organization", "name": source.publisher}
    if source.published_date:
        precision = source.published_date_precision or Precision.day
        article["datePublished"] = iso_date(source.published_date, precision)
    article["hasPart"] = []
    return article


def _url(base_url: str, collection: str, id: str) -> str:
    return f"{base_url}/api/v1/{collection}/{quote(id, safe='')}"
