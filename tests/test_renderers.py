"""The export renderers, byte for byte, on three hand-built events."""

# The data is deliberately non-ASCII (curly quotes, en dashes): that is what the renderers meet.

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.actors.models import ActorKind
from app.core.dates import Precision, Qualifier, date_label
from app.events.models import (
    ActorRole,
    CitationPublic,
    DateClaim,
    DateSource,
    EventActorPublic,
    EventKind,
    EventPublic,
    EventStatus,
    ProgramRefPublic,
)
from app.sources.models import SourceRef
from app.timeline import csv as csv_module
from app.timeline.csv import render_csv
from app.timeline.ics import escape_text, fold_line, render_ics
from app.timeline.jsonld import render_jsonld
from app.timeline.ndjson import render_ndjson
from app.timeline.timelinejs import render_timelinejs

POST = SourceRef(
    id="ilrs-post",
    title="Russia, China to build a lunar station",
    publisher="The Post Millennial",
    published_date=date(2021, 3, 10),
    published_date_precision=Precision.day,
    published_date_estimated=True,
)
SPACENEWS = SourceRef(
    id="ilrs-spacenews",
    title="The “ILRS” plan",
    publisher=None,
    published_date=date(2021, 3, 1),
    published_date_precision=Precision.month,
    published_date_estimated=True,
)
AFP = SourceRef(
    id="iss-exit-afp",
    title="Russia to quit the ISS after 2024",
    publisher=None,
    published_date=None,
    published_date_precision=None,
    published_date_estimated=False,
)
ILRS = ProgramRefPublic(id="ilrs", name="International Lunar Research Station")


def _actor(id: str, name: str, kind: ActorKind, role: ActorRole) -> EventActorPublic:
    return EventActorPublic(id=id, name=name, kind=kind, role=role)


def _citation(
    id: int,
    source: SourceRef,
    quote: str,
    claimed: tuple[date, Qualifier, str] | None = None,
    note: str | None = None,
) -> CitationPublic:
    return CitationPublic(
        id=id,
        quote=quote,
        claimed_date=claimed[0] if claimed else None,
        claimed_date_precision=Precision.year if claimed else None,
        claimed_date_qualifier=claimed[1] if claimed else None,
        claimed_date_inferred=False if claimed else None,
        claimed_date_label=claimed[2] if claimed else None,
        note=note,
        source=source,
    )


MEMORANDUM = EventPublic(
    id="ilrs-memorandum",
    title='Russia and China sign the "ILRS" memorandum',
    summary="Roscosmos and CNSA agree to build a lunar station; others may join,\n"
    "says Roscosmos’ chief.",
    start_date=date(2021, 3, 9),
    end_date=None,
    date_precision=Precision.day,
    date_qualifier=Qualifier.exact,
    date_source=DateSource.public_record,
    status=EventStatus.occurred,
    kind=EventKind.agreement,
    location=None,
    date_label="9 March 2021",
    disputed=False,
    planned_date_passed=False,
    source_count=2,
    date_claims=[],
    actors=[
        _actor("roscosmos", "Roscosmos", ActorKind.agency, ActorRole.signatory),
        _actor(
            "cnsa", "China National Space Administration", ActorKind.agency, ActorRole.signatory
        ),
        _actor("russia", "Russia", ActorKind.country, ActorRole.partner),
    ],
    programs=[ILRS],
    citations=[
        _citation(1, POST, "Russia and China signed a memorandum of understanding Tuesday."),
        _citation(2, SPACENEWS, 'The station is "open to all" <script>alert(1)</script>'),
    ],
)
ISS_EXIT = EventPublic(
    id="russia-iss-exit",
    title="=cmd|' /C calc'!A0",
    summary="@Roscosmos says Russia will leave the ISS, citing sanctions.",
    start_date=date(2024, 1, 1),
    end_date=date(2025, 1, 1),
    date_precision=Precision.year,
    date_qualifier=Qualifier.exact,
    date_source=DateSource.article,
    status=EventStatus.planned,
    kind=EventKind.withdrawal,
    location=None,
    date_label="2024–2025",
    disputed=True,
    planned_date_passed=True,
    source_count=2,
    date_claims=[
        DateClaim(
            label="by 2025",
            date=date(2025, 1, 1),
            precision=Precision.year,
            qualifier=Qualifier.by,
            source_ids=["ilrs-post"],
            citation_ids=[3],
        ),
        DateClaim(
            label="after 2024",
            date=date(2024, 1, 1),
            precision=Precision.year,
            qualifier=Qualifier.after,
            source_ids=["iss-exit-afp"],
            citation_ids=[4],
        ),
    ],
    actors=[
        _actor("russia", "Russia", ActorKind.country, ActorRole.withdrawing),
        _actor("roscosmos", "Roscosmos", ActorKind.agency, ActorRole.withdrawing),
        _actor("dmitry-rogozin", "Dmitry Rogozin", ActorKind.person, ActorRole.speaker),
    ],
    programs=[
        ProgramRefPublic(id="iss", name="International Space Station"),
        ProgramRefPublic(id="ros", name="Russian Orbital Station"),
    ],
    citations=[
        _citation(
            3,
            POST,
            "Russia will leave the International Space Station by 2025.",
            (date(2025, 1, 1), Qualifier.by, "by 2025"),
        ),
        _citation(
            4,
            AFP,
            "Moscow will quit after 2024; it plans its own station.",
            (date(2024, 1, 1), Qualifier.after, "after 2024"),
            note="The agency's statement, as AFP reports it.",
        ),
    ],
)
STATION = EventPublic(
    id="ilrs-station",
    title="A lunar station at the Moon’s south pole",
    summary="Russia and China plan a permanent base – crewed later.",
    start_date=date(2030, 1, 1),
    end_date=None,
    date_precision=Precision.year,
    date_qualifier=Qualifier.by,
    date_source=DateSource.article,
    status=EventStatus.planned,
    kind=EventKind.milestone,
    location="Moon, south pole",
    date_label="by 2030",
    disputed=False,
    planned_date_passed=False,
    source_count=1,
    date_claims=[
        DateClaim(
            label="by 2030",
            date=date(2030, 1, 1),
            precision=Precision.year,
            qualifier=Qualifier.by,
            source_ids=["ilrs-spacenews"],
            citation_ids=[5],
        )
    ],
    actors=[
        _actor("russia", "Russia", ActorKind.country, ActorRole.partner),
        _actor("china", "China", ActorKind.country, ActorRole.partner),
    ],
    programs=[ILRS],
    citations=[
        _citation(
            5,
            SPACENEWS,
            "The station should be ready by 2030.",
            (date(2030, 1, 1), Qualifier.by, "by 2030"),
        )
    ],
)
EVENTS = [MEMORANDUM, ISS_EXIT, STATION]


def _csv(events: list[EventPublic], **options: bool) -> bytes:
    return b"".join(render_csv(events, **options))


def test_csv_byte_for_byte() -> None:
    expected = (
        "id,title,summary,start_date,end_date,date_precision,date_qualifier,date_label,status,"
        "kind,location,disputed,planned_date_passed,source_count,actors,actor_roles,programs,"
        "sources,citation_count\r\n"
        'ilrs-memorandum,"Russia and China sign the ""ILRS"" memorandum",'
        '"Roscosmos and CNSA agree to build a lunar station; others may join,\n'
        'says Roscosmos’ chief.",2021-03-09,,day,exact,9 March 2021,occurred,agreement,,'
        "false,false,2,roscosmos;cnsa;russia,roscosmos:signatory;cnsa:signatory;russia:partner,"
        "ilrs,ilrs-post;ilrs-spacenews,2\r\n"
        "russia-iss-exit,'=cmd|' /C calc'!A0,"
        '"\'@Roscosmos says Russia will leave the ISS, citing sanctions.",'
        "2024-01-01,2025-01-01,year,exact,2024–2025,planned,withdrawal,,true,true,2,"
        "russia;roscosmos;dmitry-rogozin,"
        "russia:withdrawing;roscosmos:withdrawing;dmitry-rogozin:speaker,"
        "iss;ros,ilrs-post;iss-exit-afp,2\r\n"
        "ilrs-station,A lunar station at the Moon’s south pole,"
        "Russia and China plan a permanent base – crewed later.,"
        '2030-01-01,,year,by,by 2030,planned,milestone,"Moon, south pole",false,false,1,'
        "russia;china,russia:partner;china:partner,ilrs,ilrs-spacenews,1\r\n"
    ).encode()
    assert _csv(EVENTS) == expected


def test_csv_streams_the_header_then_one_chunk_per_event() -> None:
    chunks = list(render_csv(EVENTS))
    assert len(chunks) == 4
    assert chunks[0].startswith(b"id,title,")


def test_csv_parses_into_one_row_per_event() -> None:
    rows = list(csv.reader(io.StringIO(_csv(EVENTS).decode(), newline="")))
    assert len(rows) == 4
    assert [len(row) for row in rows] == [19, 19, 19, 19]
    assert [row[0] for row in rows[1:]] == ["ilrs-memorandum", "russia-iss-exit", "ilrs-station"]
    assert (
        rows[1][2] == "Roscosmos and CNSA agree to build a lunar station; others may join,\n"
        "says Roscosmos’ chief."
    )
    assert rows[2][1] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_defuses_every_formula_start(start: str) -> None:
    event = MEMORANDUM.model_copy(update={"title": f"{start}1+1", "location": f"{start}HYPERLINK"})
    header, row = csv.reader(io.StringIO(_csv([event]).decode(), newline=""))
    assert row[header.index("title")] == f"'{start}1+1"
    assert row[header.index("location")] == f"'{start}HYPERLINK"


def test_csv_bom_only_on_request() -> None:
    assert _csv([]) == (",".join(csv_module.HEADER) + "\r\n").encode()
    assert _csv([], bom=True) == b"\xef\xbb\xbf" + (",".join(csv_module.HEADER) + "\r\n").encode()


def test_ndjson_byte_for_byte() -> None:
    expected = (
        '{"id":"russia-iss-exit","title":"=cmd|\' /C calc\'!A0",'
        '"summary":"@Roscosmos says Russia will leave the ISS, citing sanctions.",'
        '"start_date":"2024-01-01","end_date":"2025-01-01","date_precision":"year",'
        '"date_qualifier":"exact","date_source":"article","status":"planned",'
        '"kind":"withdrawal","location":null,"date_label":"2024–2025","disputed":true,'
        '"planned_date_passed":true,"source_count":2,"date_claims":['
        '{"label":"by 2025","date":"2025-01-01","precision":"year","qualifier":"by",'
        '"source_ids":["ilrs-post"],"citation_ids":[3]},'
        '{"label":"after 2024","date":"2024-01-01","precision":"year","qualifier":"after",'
        '"source_ids":["iss-exit-afp"],"citation_ids":[4]}],'
        '"actors":[{"id":"russia","name":"Russia","kind":"country","role":"withdrawing"},'
        '{"id":"roscosmos","name":"Roscosmos","kind":"agency","role":"withdrawing"},'
        '{"id":"dmitry-rogozin","name":"Dmitry Rogozin","kind":"person","role":"speaker"}],'
        '"programs":[{"id":"iss","name":"International Space Station"},'
        '{"id":"ros","name":"Russian Orbital Station"}],'
        '"citations":[{"quote":"Russia will leave the International Space Station by 2025.",'
        '"claimed_date":"2025-01-01","claimed_date_precision":"year",'
        '"claimed_date_qualifier":"by","claimed_date_inferred":false,"note":null,"id":3,'
        '"claimed_date_label":"by 2025",'
        '"source":{"id":"ilrs-post","title":"Russia, China to build a lunar station",'
        '"publisher":"The Post Millennial","published_date":"2021-03-10",'
        '"published_date_precision":"day","published_date_estimated":true}},'
        '{"quote":"Moscow will quit after 2024; it plans its own station.",'
        '"claimed_date":"2024-01-01","claimed_date_precision":"year",'
        '"claimed_date_qualifier":"after","claimed_date_inferred":false,'
        '"note":"The agency\'s statement, as AFP reports it.",'
        '"id":4,"claimed_date_label":"after 2024",'
        '"source":{"id":"iss-exit-afp","title":"Russia to quit the ISS after 2024",'
        '"publisher":null,"published_date":null,"published_date_precision":null,'
        '"published_date_estimated":false}}]}\n'
        '{"id":"ilrs-station","title":"A lunar station at the Moon’s south pole",'
        '"summary":"Russia and China plan a permanent base – crewed later.",'
        '"start_date":"2030-01-01","end_date":null,"date_precision":"year",'
        '"date_qualifier":"by","date_source":"article","status":"planned","kind":"milestone",'
        '"location":"Moon, south pole","date_label":"by 2030","disputed":false,'
        '"planned_date_passed":false,"source_count":1,"date_claims":['
        '{"label":"by 2030","date":"2030-01-01","precision":"year","qualifier":"by",'
        '"source_ids":["ilrs-spacenews"],"citation_ids":[5]}],'
        '"actors":[{"id":"russia","name":"Russia","kind":"country","role":"partner"},'
        '{"id":"china","name":"China","kind":"country","role":"partner"}],'
        '"programs":[{"id":"ilrs","name":"International Lunar Research Station"}],'
        '"citations":[{"quote":"The station should be ready by 2030.",'
        '"claimed_date":"2030-01-01","claimed_date_precision":"year",'
        '"claimed_date_qualifier":"by","claimed_date_inferred":false,"note":null,"id":5,'
        '"claimed_date_label":"by 2030",'
        '"source":{"id":"ilrs-spacenews","title":"The “ILRS” plan","publisher":null,'
        '"published_date":"2021-03-01","published_date_precision":"month",'
        '"published_date_estimated":true}}]}\n'
    ).encode()
    assert b"".join(render_ndjson([ISS_EXIT, STATION])) == expected


def test_ndjson_lines_are_the_public_json() -> None:
    lines = b"".join(render_ndjson(EVENTS)).split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == [
        event.model_dump(mode="json") for event in EVENTS
    ]


STAMP = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))


def _ics(events: list[EventPublic], dtstamp: datetime = STAMP) -> bytes:
    return b"".join(render_ics(events, dtstamp=dtstamp))


def test_ics_byte_for_byte() -> None:
    expected = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//Space Cooperation Timeline//Exports//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "X-WR-CALNAME:Space Cooperation Timeline\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:ilrs-memorandum@space-timeline\r\n"
        "DTSTAMP:20240501T123000Z\r\n"
        "DTSTART;VALUE=DATE:20210309\r\n"
        "DTEND;VALUE=DATE:20210310\r\n"
        'SUMMARY:Russia and China sign the "ILRS" memorandum\r\n'
        "DESCRIPTION:Roscosmos and CNSA agree to build a lunar station\\; others may \r\n"
        " join\\,\\nsays Roscosmos’ chief.\\n\\nDate: 9 March 2021\\n\\nSources:\\n- Russ\r\n"
        " ia\\, China to build a lunar station (The Post Millennial)\\n- The “ILRS\r\n"
        " ” plan\r\n"
        "CATEGORIES:agreement,International Lunar Research Station\r\n"
        "STATUS:CONFIRMED\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:russia-iss-exit@space-timeline\r\n"
        "DTSTAMP:20240501T123000Z\r\n"
        "DTSTART;VALUE=DATE:20240101\r\n"
        "DTEND;VALUE=DATE:20260101\r\n"
        "SUMMARY:Planned: =cmd|' /C calc'!A0\r\n"
        "DESCRIPTION:@Roscosmos says Russia will leave the ISS\\, citing sanctions.\\n\r\n"
        " \\nDate: 2024–2025 (disputed) (planned date passed)\\n\\nSources:\\n- Russia\r\n"
        " \\, China to build a lunar station (The Post Millennial)\\n- Russia to quit \r\n"
        " the ISS after 2024\r\n"
        "CATEGORIES:withdrawal,International Space Station,Russian Orbital Station\r\n"
        "STATUS:TENTATIVE\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:ilrs-station@space-timeline\r\n"
        "DTSTAMP:20240501T123000Z\r\n"
        "DTSTART;VALUE=DATE:20300101\r\n"
        "DTEND;VALUE=DATE:20310101\r\n"
        "SUMMARY:Planned: A lunar station at the Moon’s south pole\r\n"
        "DESCRIPTION:Russia and China plan a permanent base – crewed later.\\n\\nDat\r\n"
        " e: by 2030\\n\\nSources:\\n- The “ILRS” plan\r\n"
        "LOCATION:Moon\\, south pole\r\n"
        "CATEGORIES:milestone,International Lunar Research Station\r\n"
        "STATUS:TENTATIVE\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    assert _ics(EVENTS) == expected


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def test_ics_lines_are_crlf_folded_at_75_octets_and_rejoin() -> None:
    data = _ics(EVENTS)
    assert data.count(b"\r") == data.count(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")
    physical = data.split(b"\r\n")
    assert physical[-1] == b""
    assert [line for line in physical if len(line) > 75] == []
    assert [line.decode() for line in physical] == data.decode().split("\r\n")  # no split chars
    logical = data.replace(b"\r\n ", b"").decode().split("\r\n")
    descriptions = [line for line in logical if line.startswith("DESCRIPTION:")]
    assert [_unescape(line.removeprefix("DESCRIPTION:")) for line in descriptions] == [
        "Roscosmos and CNSA agree to build a lunar station; others may join,\n"
        "says Roscosmos’ chief.\n\nDate: 9 March 2021\n\nSources:\n"
        "- Russia, China to build a lunar station (The Post Millennial)\n- The “ILRS” plan",
        "@Roscosmos says Russia will leave the ISS, citing sanctions.\n\n"
        "Date: 2024–2025 (disputed) (planned date passed)\n\nSources:\n"
        "- Russia, China to build a lunar station (The Post Millennial)\n"
        "- Russia to quit the ISS after 2024",
        "Russia and China plan a permanent base – crewed later.\n\nDate: by 2030\n\n"
        "Sources:\n- The “ILRS” plan",
    ]


def test_ics_streams_header_events_and_end() -> None:
    assert len(list(render_ics(EVENTS, dtstamp=STAMP))) == 5


def test_ics_naive_dtstamp_is_utc() -> None:
    data = _ics([STATION], dtstamp=datetime(2024, 5, 1, 12, 30))
    assert data.count(b"\r\nDTSTAMP:20240501T123000Z\r\n") == 1
    assert _ics([STATION], dtstamp=datetime(2024, 5, 1, 12, 30, tzinfo=UTC)) == data


def test_fold_line_counts_octets_and_never_splits_a_character() -> None:
    assert fold_line("X" * 75) == b"X" * 75 + b"\r\n"
    assert fold_line("X" * 150) == b"X" * 75 + b"\r\n " + b"X" * 74 + b"\r\n X\r\n"
    dash = "–".encode()  # three octets
    # 8 + 22 * 3 = 74 octets fit; the 23rd dash would straddle octet 75.
    assert (
        fold_line("SUMMARY:" + "–" * 30) == b"SUMMARY:" + dash * 22 + b"\r\n " + dash * 8 + b"\r\n"
    )
    # A continuation line holds 74 octets after its space: 24 dashes, not 24 and a third.
    assert fold_line("X" * 75 + "–" * 30) == (
        b"X" * 75 + b"\r\n " + dash * 24 + b"\r\n " + dash * 6 + b"\r\n"
    )


def test_escape_text() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf\rg\x00h\ti") == "a\\\\b\\;c\\,d\\ne\\nf\\ngh\ti"


BASE = "https://timeline.example/"


def _jsonld(events: list[EventPublic]) -> bytes:
    return b"".join(render_jsonld(events, base_url=BASE))


def test_jsonld_byte_for_byte() -> None:
    expected = (
        '{"@context":"https://schema.org","@graph":[\n'
        '{"@type":"Event","@id":"https://timeline.example/api/v1/events/ilrs-memorandum",'
        '"identifier":"ilrs-memorandum",'
        '"name":"Russia and China sign the \\"ILRS\\" memorandum",'
        '"description":"Roscosmos and CNSA agree to build a lunar station; others may join,\\n'
        'says Roscosmos’ chief.","startDate":"2021-03-09",'
        '"eventStatus":"https://schema.org/EventScheduled",'
        '"attendee":[{"@type":"Role","roleName":"signatory",'
        '"attendee":{"@type":"GovernmentOrganization",'
        '"@id":"https://timeline.example/api/v1/actors/roscosmos","identifier":"roscosmos",'
        '"name":"Roscosmos"}},'
        '{"@type":"Role","roleName":"signatory","attendee":{"@type":"GovernmentOrganization",'
        '"@id":"https://timeline.example/api/v1/actors/cnsa","identifier":"cnsa",'
        '"name":"China National Space Administration"}},'
        '{"@type":"Role","roleName":"partner","attendee":{"@type":"Organization",'
        '"@id":"https://timeline.example/api/v1/actors/russia","identifier":"russia",'
        '"name":"Russia"}}],'
        '"keywords":["agreement",{"@type":"DefinedTerm",'
        '"@id":"https://timeline.example/api/v1/programs/ilrs",'
        '"termCode":"ilrs","name":"International Lunar Research Station"}],'
        '"subjectOf":[{"@type":"NewsArticle",'
        '"@id":"https://timeline.example/api/v1/sources/ilrs-post",'
        '"identifier":"ilrs-post","headline":"Russia, China to build a lunar station",'
        '"publisher":{"@type":"Organization","name":"The Post Millennial"},'
        '"datePublished":"2021-03-10",'
        '"hasPart":[{"@type":"Quotation","identifier":"1",'
        '"text":"Russia and China signed a memorandum of understanding Tuesday."}]},'
        '{"@type":"NewsArticle","@id":"https://timeline.example/api/v1/sources/ilrs-spacenews",'
        '"identifier":"ilrs-spacenews","headline":"The “ILRS” plan","datePublished":"2021-03",'
        '"hasPart":[{"@type":"Quotation","identifier":"2",'
        '"text":"The station is \\"open to all\\" \\u003cscript>alert(1)\\u003c/script>"}]}]}'
        ",\n"
        '{"@type":"Event","@id":"https://timeline.example/api/v1/events/russia-iss-exit",'
        '"identifier":"russia-iss-exit","name":"=cmd|\' /C calc\'!A0",'
        '"description":"@Roscosmos says Russia will leave the ISS, citing sanctions.",'
        '"startDate":"2024","endDate":"2025","eventStatus":"https://schema.org/EventScheduled",'
        '"attendee":[{"@type":"Role","roleName":"withdrawing","attendee":{"@type":"Organization",'
        '"@id":"https://timeline.example/api/v1/actors/russia","identifier":"russia",'
        '"name":"Russia"}},'
        '{"@type":"Role","roleName":"withdrawing","attendee":{"@type":"GovernmentOrganization",'
        '"@id":"https://timeline.example/api/v1/actors/roscosmos","identifier":"roscosmos",'
        '"name":"Roscosmos"}},'
        '{"@type":"Role","roleName":"speaker","attendee":{"@type":"Person",'
        '"@id":"https://timeline.example/api/v1/actors/dmitry-rogozin",'
        '"identifier":"dmitry-rogozin","name":"Dmitry Rogozin"}}],'
        '"keywords":["withdrawal",{"@type":"DefinedTerm",'
        '"@id":"https://timeline.example/api/v1/programs/iss",'
        '"termCode":"iss","name":"International Space Station"},'
        '{"@type":"DefinedTerm","@id":"https://timeline.example/api/v1/programs/ros",'
        '"termCode":"ros","name":"Russian Orbital Station"}],'
        '"subjectOf":[{"@type":"NewsArticle",'
        '"@id":"https://timeline.example/api/v1/sources/ilrs-post",'
        '"identifier":"ilrs-post","headline":"Russia, China to build a lunar station",'
        '"publisher":{"@type":"Organization","name":"The Post Millennial"},'
        '"datePublished":"2021-03-10",'
        '"hasPart":[{"@type":"Quotation","identifier":"3",'
        '"text":"Russia will leave the International Space Station by 2025."}]},'
        '{"@type":"NewsArticle","@id":"https://timeline.example/api/v1/sources/iss-exit-afp",'
        '"identifier":"iss-exit-afp","headline":"Russia to quit the ISS after 2024",'
        '"hasPart":[{"@type":"Quotation","identifier":"4",'
        '"text":"Moscow will quit after 2024; it plans its own station."}]}]}'
        ",\n"
        '{"@type":"Event","@id":"https://timeline.example/api/v1/events/ilrs-station",'
        '"identifier":"ilrs-station","name":"A lunar station at the Moon’s south pole",'
        '"description":"Russia and China plan a permanent base – crewed later.",'
        '"startDate":"2030","eventStatus":"https://schema.org/EventScheduled",'
        '"location":{"@type":"Place","name":"Moon, south pole"},'
        '"attendee":[{"@type":"Role","roleName":"partner","attendee":{"@type":"Organization",'
        '"@id":"https://timeline.example/api/v1/actors/russia","identifier":"russia",'
        '"name":"Russia"}},'
        '{"@type":"Role","roleName":"partner","attendee":{"@type":"Organization",'
        '"@id":"https://timeline.example/api/v1/actors/china","identifier":"china",'
        '"name":"China"}}],'
        '"keywords":["milestone",{"@type":"DefinedTerm",'
        '"@id":"https://timeline.example/api/v1/programs/ilrs",'
        '"termCode":"ilrs","name":"International Lunar Research Station"}],'
        '"subjectOf":[{"@type":"NewsArticle",'
        '"@id":"https://timeline.example/api/v1/sources/ilrs-spacenews",'
        '"identifier":"ilrs-spacenews","headline":"The “ILRS” plan","datePublished":"2021-03",'
        '"hasPart":[{"@type":"Quotation","identifier":"5",'
        '"text":"The station should be ready by 2030."}]}]}'
        "\n]}\n"
    ).encode()
    assert _jsonld(EVENTS) == expected


# The schema.org terms each type may use here (all checked against schema.org's definitions).
SCHEMA_ORG = {
    "Event": {
        "@id",
        "identifier",
        "name",
        "description",
        "startDate",
        "endDate",
        "eventStatus",
        "location",
        "attendee",
        "keywords",
        "subjectOf",
    },
    "Place": {"name"},
    "Role": {"roleName", "attendee"},
    "Organization": {"@id", "identifier", "name"},
    "GovernmentOrganization": {"@id", "identifier", "name"},
    "Corporation": {"@id", "identifier", "name"},
    "Person": {"@id", "identifier", "name"},
    "DefinedTerm": {"@id", "termCode", "name"},
    "NewsArticle": {"@id", "identifier", "headline", "publisher", "datePublished", "hasPart"},
    "Quotation": {"identifier", "text"},
}


def _nodes(value: object) -> Iterator[dict[str, object]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def test_jsonld_parses_and_every_node_is_typed_schema_org() -> None:
    data = _jsonld(EVENTS)
    document = json.loads(data)
    assert list(document) == ["@context", "@graph"]
    assert document["@context"] == "https://schema.org"
    assert [node["identifier"] for node in document["@graph"]] == [e.id for e in EVENTS]
    nodes = list(_nodes(document["@graph"]))
    assert len(nodes) == 36
    for node in nodes:
        assert set(node) - {"@type"} <= SCHEMA_ORG[str(node["@type"])], node
    assert b"<" not in data
    quote = document["@graph"][0]["subjectOf"][1]["hasPart"][0]["text"]
    assert quote == 'The station is "open to all" <script>alert(1)</script>'


def test_jsonld_streams_each_event_and_an_empty_graph_is_valid() -> None:
    assert len(list(render_jsonld(EVENTS, base_url=BASE))) == 5
    assert json.loads(_jsonld([])) == {"@context": "https://schema.org", "@graph": []}


def test_timelinejs_byte_for_byte() -> None:
    expected = (
        '{"title":{"text":{"headline":"Space Cooperation Timeline",'
        '"text":"<p>International space cooperation and its break-ups, '
        'as the press reported them.</p>"}},'
        '"events":['
        '{"unique_id":"ilrs-memorandum","start_date":{"year":2021,"month":3,"day":9},'
        '"text":{"headline":"Russia and China sign the &quot;ILRS&quot; memorandum",'
        '"text":"<p>Roscosmos and CNSA agree to build a lunar station; others may join,\\n'
        "says Roscosmos’ chief.</p><ul><li>“Russia and China signed a memorandum of "
        "understanding Tuesday.” — <cite>Russia, China to build a lunar station</cite>, "
        "The Post Millennial</li>"
        "<li>“The station is &quot;open to all&quot; &lt;script&gt;alert(1)&lt;/script&gt;” — "
        '<cite>The “ILRS” plan</cite></li></ul>"},'
        '"group":"International Lunar Research Station"},'
        '{"unique_id":"russia-iss-exit","start_date":{"year":2024},"end_date":{"year":2025},'
        '"display_date":"2024–2025 (disputed)",'
        '"text":{"headline":"=cmd|&#x27; /C calc&#x27;!A0",'
        '"text":"<p><strong>Planned</strong> (planned date passed)</p>'
        "<p>@Roscosmos says Russia will leave the ISS, citing sanctions.</p>"
        "<ul><li>“Russia will leave the International Space Station by 2025.” — "
        "<cite>Russia, China to build a lunar station</cite>, The Post Millennial "
        "(dates it by 2025)</li>"
        "<li>“Moscow will quit after 2024; it plans its own station.” — "
        '<cite>Russia to quit the ISS after 2024</cite> (dates it after 2024)</li></ul>"},'
        '"group":"International Space Station"},'
        '{"unique_id":"ilrs-station","start_date":{"year":2030},"display_date":"by 2030",'
        '"text":{"headline":"A lunar station at the Moon’s south pole",'
        '"text":"<p><strong>Planned</strong></p>'
        "<p>Russia and China plan a permanent base – crewed later.</p>"
        "<ul><li>“The station should be ready by 2030.” — "
        '<cite>The “ILRS” plan</cite></li></ul>"},'
        '"group":"International Lunar Research Station"}'
        '],"scale":"human"}'
    ).encode()
    assert render_timelinejs(EVENTS) == expected


# From the TimelineJS3 JSON format documentation.
TIMELINE_KEYS = {"events", "title", "eras", "scale"}
SLIDE_KEYS = {
    "start_date",
    "end_date",
    "text",
    "media",
    "group",
    "display_date",
    "background",
    "autolink",
    "unique_id",
}
DATE_KEYS = {"year", "month", "day", "hour", "minute", "second", "millisecond", "display_date"}


def _check_date(value: object) -> tuple[int, int, int]:
    assert isinstance(value, dict)
    assert set(value) <= DATE_KEYS
    assert "year" in value
    for key in DATE_KEYS - {"display_date"}:
        if key in value:
            assert type(value[key]) is int, (key, value)
    assert 1 <= value.get("month", 1) <= 12
    assert 1 <= value.get("day", 1) <= 31
    return (value["year"], value.get("month", 1), value.get("day", 1))


def _check_slide(slide: object, *, title: bool = False) -> None:
    assert isinstance(slide, dict)
    assert set(slide) <= SLIDE_KEYS
    if not title:
        start = _check_date(slide["start_date"])
        if "end_date" in slide:
            assert _check_date(slide["end_date"]) > start
    for key in ("display_date", "group", "unique_id"):
        if key in slide:
            assert type(slide[key]) is str
    assert set(slide["text"]) <= {"headline", "text"}
    assert all(type(value) is str for value in slide["text"].values())


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_timelinejs_follows_the_documented_format_and_escapes_html() -> None:
    document = json.loads(render_timelinejs(EVENTS, title="<b>Space</b>", text="A & B"))
    assert set(document) <= TIMELINE_KEYS
    assert type(document["events"]) is list
    assert len(document["events"]) == 3
    _check_slide(document["title"], title=True)
    for slide in document["events"]:
        _check_slide(slide)
    ids = [slide["unique_id"] for slide in document["events"]]
    assert ids == ["ilrs-memorandum", "russia-iss-exit", "ilrs-station"]
    assert document["title"]["text"] == {
        "headline": "&lt;b&gt;Space&lt;/b&gt;",
        "text": "<p>A &amp; B</p>",
    }
    assert [s for s in _strings(document) if "<script" in s.lower()] == []


CASES = [
    # precision, start, end; JSON-LD (start, end); TimelineJS (start, end, display); ICS
    (
        Precision.day,
        date(2021, 3, 9),
        None,
        ("2021-03-09", None),
        ({"year": 2021, "month": 3, "day": 9}, None, None),
        ("20210309", "20210310"),
    ),
    (
        Precision.day,
        date(2021, 12, 30),
        date(2021, 12, 31),
        ("2021-12-30", "2021-12-31"),
        ({"year": 2021, "month": 12, "day": 30}, {"year": 2021, "month": 12, "day": 31}, None),
        ("20211230", "20220101"),
    ),
    (
        Precision.month,
        date(2024, 2, 1),
        None,
        ("2024-02", None),
        ({"year": 2024, "month": 2}, None, None),
        ("20240201", "20240301"),
    ),
    (
        Precision.month,
        date(1986, 2, 1),
        date(2001, 3, 1),
        ("1986-02", "2001-03"),
        ({"year": 1986, "month": 2}, {"year": 2001, "month": 3}, None),
        ("19860201", "20010401"),
    ),
    (
        Precision.year,
        date(2024, 1, 1),
        None,
        ("2024", None),
        ({"year": 2024}, None, None),
        ("20240101", "20250101"),
    ),
    (
        Precision.year,
        date(2024, 1, 1),
        date(2025, 1, 1),
        ("2024", "2025"),
        ({"year": 2024}, {"year": 2025}, None),
        ("20240101", "20260101"),
    ),
    (
        Precision.decade,
        date(2030, 1, 1),
        None,
        ("2030", "2039"),
        ({"year": 2030}, {"year": 2039}, "2030s"),
        ("20300101", "20400101"),
    ),
    (
        Precision.decade,
        date(2030, 1, 1),
        date(2040, 1, 1),
        ("2030", "2049"),
        ({"year": 2030}, {"year": 2049}, "2030s–2040s"),
        ("20300101", "20500101"),
    ),
]


@pytest.mark.parametrize(("precision", "start", "end", "jsonld", "slide", "ics"), CASES)
def test_every_format_dates_to_the_precision(
    precision: Precision,
    start: date,
    end: date | None,
    jsonld: tuple[str, str | None],
    slide: tuple[dict[str, int], dict[str, int] | None, str | None],
    ics: tuple[str, str],
) -> None:
    event = MEMORANDUM.model_copy(
        update={
            "start_date": start,
            "end_date": end,
            "date_precision": precision,
            "date_label": date_label(start, end, precision),
        }
    )
    node = json.loads(_jsonld([event]))["@graph"][0]
    assert (node["startDate"], node.get("endDate")) == jsonld
    rendered = json.loads(render_timelinejs([event]))["events"][0]
    assert (rendered["start_date"], rendered.get("end_date"), rendered.get("display_date")) == slide
    lines = _ics([event]).decode().split("\r\n")
    assert (lines[9], lines[10]) == (f"DTSTART;VALUE=DATE:{ics[0]}", f"DTEND;VALUE=DATE:{ics[1]}")


def test_cancelled_events_say_so_in_every_format() -> None:
    event = STATION.model_copy(update={"status": EventStatus.cancelled})
    assert json.loads(_jsonld([event]))["@graph"][0]["eventStatus"] == (
        "https://schema.org/EventCancelled"
    )
    assert _ics([event]).count(b"\r\nSTATUS:CANCELLED\r\n") == 1
    assert _ics([event]).count(b"\r\nSUMMARY:A lunar station") == 1
    text = json.loads(render_timelinejs([event]))["events"][0]["text"]["text"]
    assert text.startswith("<p><strong>Cancelled</strong></p><p>")
