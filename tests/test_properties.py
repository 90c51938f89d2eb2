"""Property tests: dates and their periods, cursors, filter parsing, the renderers, and
`as_reported_on`, each checked on inputs Hypothesis makes up rather than on a few examples."""

import base64
import csv
import hashlib
import hmac
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.core.dates import Precision, is_period_start, period_end, period_start
from app.core.errors import InvalidCursorError
from app.core.pagination import decode_cursor, encode_cursor
from app.events.models import DateSource, EventKind, EventPublic, EventStatus
from app.timeline.csv import HEADER, render_csv
from app.timeline.ics import fold_line, render_ics
from tests.conftest import Editing

PRECISIONS = st.sampled_from(list(Precision))
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))
API = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# Dates and periods


@given(DATES, PRECISIONS)
def test_a_date_lies_in_the_period_that_starts_at_its_period_start(
    value: date, precision: Precision
) -> None:
    start = period_start(value, precision)
    end = period_end(start, precision)
    assert start <= value <= end
    assert is_period_start(start, precision)
    assert is_period_start(value, precision) == (value == start)
    # The day after the period starts the next one.
    if end < date(2199, 12, 31):
        assert is_period_start(end + timedelta(days=1), precision)
        assert period_start(end + timedelta(days=1), precision) > start


@given(DATES, PRECISIONS)
def test_a_period_is_the_right_length(value: date, precision: Precision) -> None:
    start = period_start(value, precision)
    days = (period_end(start, precision) - start).days + 1
    expected = {
        Precision.day: range(1, 2),
        Precision.month: range(28, 32),
        Precision.year: range(365, 367),
        Precision.decade: range(3652, 3654),
    }[precision]
    assert days in expected


@st.composite
def spans(draw: Any) -> tuple[date, date | None, Precision]:
    """An event's start, optional end (same precision, not before it) and precision."""
    precision = draw(PRECISIONS)
    start = period_start(draw(DATES), precision)
    if draw(st.booleans()):
        return start, None, precision
    end = period_start(draw(st.dates(min_value=start, max_value=date(2199, 12, 31))), precision)
    return start, end, precision


def overlaps_year(start: date, end: date | None, precision: Precision, year: int) -> bool:
    """SPEC §3: the interval [start, end or start], each end widened to its precision."""
    last = period_end(end or start, precision)
    return start <= date(year, 12, 31) and last >= date(year, 1, 1)


@API
@given(span=spans(), years=st.lists(st.integers(1900, 2200), min_size=1, max_size=3))
def test_the_year_filter_matches_exactly_the_overlapping_events(
    editing: Editing, span: tuple[date, date | None, Precision], years: list[int]
) -> None:
    start, end, precision = span
    dates = {
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "date_precision": precision.value,
    }
    moved = editing.client.patch("/api/v1/events/e2030", json=dates, headers=editing.auth)
    assert moved.status_code == 200, moved.text
    query = urlencode([("year", y) for y in years] + [("limit", 200)])
    found = {e["id"] for e in editing.client.get(f"/api/v1/events?{query}").json()["items"]}
    expected = any(overlaps_year(start, end, precision, y) for y in years)
    assert ("e2030" in found) == expected


# Cursors

# What a keyset bound holds: 64-bit integers, finite numbers, text without NUL.
KEY_VALUES = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40).filter(lambda t: "\x00" not in t),
)
KEYS = st.lists(KEY_VALUES, min_size=1, max_size=4)
FINGERPRINTS = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
SECRETS = st.text(min_size=1, max_size=40)
# Anything else JSON can say, signed with the right secret: a forger who knows the key.
NOT_A_KEY = st.one_of(
    st.lists(st.one_of(st.booleans(), st.none()), min_size=1),
    st.just([]),
    st.lists(KEY_VALUES, min_size=5, max_size=8),
    st.lists(st.dictionaries(st.text(max_size=3), st.integers()), min_size=1, max_size=2),
)


@given(KEYS, FINGERPRINTS, SECRETS)
def test_a_cursor_gives_back_what_it_was_made_of(
    keys: list[Any], fingerprint: str, secret: str
) -> None:
    assert decode_cursor(encode_cursor(keys, fingerprint, secret), fingerprint, secret) == keys


@given(NOT_A_KEY, FINGERPRINTS, SECRETS)
def test_a_signed_cursor_of_the_wrong_shape_is_refused(
    keys: Any, fingerprint: str, secret: str
) -> None:
    """Regression: a correctly signed payload of another shape raised AttributeError (500)."""
    forged = _sign(json.dumps({"k": keys, "f": fingerprint}).encode(), secret)
    with pytest.raises(InvalidCursorError):
        decode_cursor(forged, fingerprint, secret)
    f = fingerprint.encode()
    extra_field, not_a_list = b'{"k": [1], "f": "%s", "x": 1}' % f, b'{"k": "a", "f": "%s"}' % f
    for payload in (b"[1, 2]", b'"k"', b"not json", extra_field, not_a_list):
        with pytest.raises(InvalidCursorError):
            decode_cursor(_sign(payload, secret), fingerprint, secret)


def _sign(payload: bytes, secret: str) -> str:
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    encode = base64.urlsafe_b64encode
    return f"{encode(payload).rstrip(b'=').decode()}.{encode(signature).rstrip(b'=').decode()}"


@given(KEYS, FINGERPRINTS, SECRETS, st.data())
def test_a_tampered_cursor_is_refused_and_nothing_else(
    keys: list[Any], fingerprint: str, secret: str, data: st.DataObject
) -> None:
    cursor = encode_cursor(keys, fingerprint, secret)
    where = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != cursor[where]))
    tampered = cursor[:where] + replacement + cursor[where + 1 :]
    try:
        decoded = decode_cursor(tampered, fingerprint, secret)
    except InvalidCursorError:
        return
    # Base64 ignores some characters and padding bits: then the same cursor was read.
    assert decoded == keys


@given(KEYS, FINGERPRINTS, FINGERPRINTS, SECRETS, SECRETS)
def test_a_foreign_cursor_is_refused(
    keys: list[Any], fingerprint: str, other_fingerprint: str, secret: str, other_secret: str
) -> None:
    assume(fingerprint != other_fingerprint and secret != other_secret)
    for cursor in (
        encode_cursor(keys, other_fingerprint, secret),  # another query's
        encode_cursor(keys, fingerprint, other_secret),  # another deployment's
    ):
        with pytest.raises(InvalidCursorError):
            decode_cursor(cursor, fingerprint, secret)


@given(st.text(max_size=300), FINGERPRINTS, SECRETS)
def test_any_string_as_a_cursor_is_refused_cleanly(
    cursor: str, fingerprint: str, secret: str
) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, fingerprint, secret)


CURSOR_TEXT = st.one_of(
    st.text(min_size=1, max_size=200),
    st.from_regex(r"[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_-]{1,40}", fullmatch=True),
)


@settings(max_examples=60, deadline=None)
@given(cursor=CURSOR_TEXT)
def test_random_cursors_through_the_api_are_422(client: TestClient, cursor: str) -> None:
    assume("\x00" not in cursor)  # refused earlier, as any NUL in a URL (422 too)
    for path in ("/api/v1/events", "/api/v1/actors", "/api/v1/changes", "/api/v1/timeline"):
        response = client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (path, cursor, response.text)
        assert response.headers["content-type"] == "application/problem+json"


# Filter parsing

PARAMETERS = [
    "actor", "actor_match", "role", "year", "from", "to", "program", "kind", "status",
    "source", "q", "min_sources", "as_reported_on", "changed_since", "sort", "limit", "cursor",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["2021", "2021-03", "2021-03-09", "russia", "ILRS", "all", "-date", "*"]),
)


@settings(max_examples=80, deadline=None)
@given(
    query=st.lists(
        st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=10)), VALUES),
        max_size=8,
    )
)
def test_no_query_string_makes_the_list_fail(
    client: TestClient, query: list[tuple[str, str]]
) -> None:
    response = client.get("/api/v1/events?" + urlencode(query))
    assert response.status_code in (200, 422), (query, response.text[:300])
    if response.status_code == 422:
        assert response.json()["detail"]


# Renderers

TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=120,
).map(lambda s: s.strip() or "x")
FORMULA_TEXT = st.one_of(TEXT, st.tuples(st.sampled_from("=+-@"), TEXT).map("".join))


def event(title: str, summary: str, location: str | None) -> EventPublic:
    return EventPublic(
        id="generated",
        title=title,
        summary=summary,
        start_date=date(2021, 3, 9),
        end_date=None,
        date_precision=Precision.day,
        date_qualifier="exact",
        date_source=DateSource.article,
        status=EventStatus.occurred,
        kind=EventKind.agreement,
        location=location,
        date_label="9 March 2021",
        disputed=False,
        planned_date_passed=False,
        source_count=0,
        date_claims=[],
        actors=[],
        programs=[],
        citations=[],
    )


def defused(value: str) -> str:
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


@given(FORMULA_TEXT, FORMULA_TEXT, st.none() | FORMULA_TEXT)
def test_csv_round_trips_through_the_csv_module(
    title: str, summary: str, location: str | None
) -> None:
    data = b"".join(render_csv([event(title, summary, location)])).decode()
    header, row = list(csv.reader(io.StringIO(data, newline="")))
    assert header == list(HEADER)
    cells = dict(zip(header, row, strict=True))
    assert cells["title"] == defused(title)
    assert cells["summary"] == defused(summary)
    assert cells["location"] == defused(location or "")
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def unfold(data: bytes) -> list[bytes]:
    return data.replace(b"\r\n ", b"").split(b"\r\n")


@given(st.text(st.characters(codec="utf-8"), max_size=400))
def test_ics_lines_fold_under_75_octets_and_unfold_to_the_original(line: str) -> None:
    assume("\r" not in line and "\n" not in line)
    folded = fold_line(line)
    assert folded.endswith(b"\r\n")
    assert all(len(physical) <= 75 for physical in folded[:-2].split(b"\r\n"))
    assert unfold(folded) == [line.encode(), b""]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


@given(TEXT, TEXT)
def test_ics_summaries_survive_escaping_and_folding(title: str, location: str) -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    data = b"".join(render_ics([event(title, "s", location)], dtstamp=stamp))
    physical = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in physical)
    lines = [line.decode() for line in unfold(data)]
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert unescape(summary.removeprefix("SUMMARY:")) == read_back(title)
    where = next(line for line in lines if line.startswith("LOCATION:"))
    assert unescape(where.removeprefix("LOCATION:")) == read_back(location)
    assert lines.count("BEGIN:VEVENT") == 1


def read_back(value: str) -> str:
    """What a calendar reads: line breaks as LF, other control characters (not TEXT) gone."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value)


# As reported on a day

DAYS = st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31))


def citations_by_event(client: TestClient, day: date) -> dict[str, int]:
    response = client.get(
        "/api/v1/events", params={"as_reported_on": day.isoformat(), "limit": 200}
    )
    assert response.status_code == 200
    return {e["id"]: len(e["citations"]) for e in response.json()["items"]}


@settings(max_examples=25, deadline=None)
@given(DAYS, DAYS)
def test_a_later_day_never_shows_fewer_citations(client: TestClient, a: date, b: date) -> None:
    earlier, later = sorted((a, b))
    before, after = citations_by_event(client, earlier), citations_by_event(client, later)
    assert set(before) <= set(after)
    for event_id, count in before.items():
        assert after[event_id] >= count, (event_id, earlier, later)
