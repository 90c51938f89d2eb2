"""The curated dataset (SPEC §2, §5): `seed check` passes on it, fails loudly on broken copies,
and the loaded data holds the facts the SPEC fixes."""

import hashlib
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from seed.check import STATUSES_OF_KIND, quote_marks_problem
from seed.loader import SEED_DIR
from seed.schema import read_dataset

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = Settings().articles_dir
EVENT_ID_LINE = "- id: {}\n"


def seed_check(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m app seed check` as an editor would, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "app", "seed", "check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def ok_line() -> str:
    dataset = read_dataset(SEED_DIR)
    return (
        f"ok: {len(dataset.actors)} actors, {len(dataset.programs)} programs, "
        f"{len(dataset.sources)} sources, {len(dataset.events)} events"
    )


@pytest.fixture
def articles() -> Path:
    """The source articles; tests that compare against them skip when they are absent."""
    if not ARTICLES.is_dir():
        pytest.skip(f"source articles not found at {ARTICLES}; quotes and checksums not checked")
    return ARTICLES


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the dataset for a test to break."""
    return Path(shutil.copytree(SEED_DIR, tmp_path / "data"))


def line_of(path: Path, text: str) -> int:
    """The 1-based line where `text` (which must occur once) starts in the file."""
    content = path.read_text(encoding="utf-8")
    assert content.count(text) == 1, f"{text!r} must occur exactly once in {path.name}"
    return content[: content.index(text)].count("\n") + 1


def replace(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old`; return the line where it started."""
    line = line_of(path, old)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return line


def append(path: Path, record: str) -> int:
    """Add a record at the end of the file; return the line it starts on."""
    content = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(content + record, encoding="utf-8")
    return content.count("\n") + 1


def fails_with(data: Path, problem: str) -> None:
    """`seed check` on the broken copy exits 1 and reports exactly this one problem."""
    result = seed_check("--data", str(data))
    assert result.returncode == 1, result.stdout
    assert result.stderr == f"{problem}\n1 problem(s) found\n"


# (a) The real dataset passes.


def test_seed_check_passes_on_the_dataset() -> None:
    result = seed_check()
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1] == ok_line()


def test_seed_check_verifies_every_quote_and_checksum(articles: Path) -> None:
    result = seed_check("--articles", str(articles))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == ok_line() + "\n"


# (b) Broken copies fail loudly, each at its file and line.


def test_unknown_actor(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(events, "    - {id: esa, role: partner}", "    - {id: eas, role: partner}")
    fails_with(data, f"events.yaml:{line}: iss-launch: unknown actor 'eas'")


def test_duplicate_event_id(data: Path) -> None:
    events = data / "events.yaml"
    first = line_of(events, EVENT_ID_LINE.format("iss-launch"))
    line = replace(
        events,
        EVENT_ID_LINE.format("artemis-accords-signed"),
        EVENT_ID_LINE.format("iss-launch"),
    )
    fails_with(data, f"events.yaml:{line}: duplicate event id 'iss-launch' (first at line {first})")


def test_quote_not_verbatim(data: Path, articles: Path) -> None:
    events = data / "events.yaml"
    quote = "It is reported that Russia will quit the ISS program by 2025."
    line = replace(events, quote.replace("quit", "leave"), quote)
    fails_with(
        data,
        f"events.yaml:{line}: russia-iss-exit: quote not found verbatim in source "
        f"'russia-to-leave-iss-for-lunar-station-with-china': \"{quote[:60]}…\"",
    )


def test_sha256_mismatch(data: Path, articles: Path) -> None:
    name = "000_4979a13bda7f7958.txt"
    digest = hashlib.sha256((articles / name).read_bytes()).hexdigest()
    line = replace(data / "sources.yaml", f"sha256: {digest}", f"sha256: {'f' * 64}")
    fails_with(
        data,
        f"sources.yaml:{line}: russia-to-leave-iss-for-lunar-station-with-china: "
        f"sha256 mismatch for '{name}' (file has {digest})",
    )


def test_event_without_citation(data: Path) -> None:
    line = append(
        data / "events.yaml",
        "- id: uncited\n"
        "  title: An event nobody reported\n"
        "  summary: It has no citation.\n"
        "  date: 2099\n"
        "  status: planned\n"
        "  kind: mission\n"
        "  actors:\n"
        "    - {id: russia, role: subject}\n",
    )
    fails_with(data, f"events.yaml:{line}: uncited: citations: required field is missing")


def test_end_before_start(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(events, "  date: 2024\n  end: 2025\n", "  date: 2024\n  end: 2023\n") + 1
    fails_with(data, f"events.yaml:{line}: russia-iss-exit: the end precedes the start")


def test_date_not_first_day_of_its_precision(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "  date: 2024\n  end: 2025\n",
        "  precision: year\n  date: 2024-03-01\n  end: 2025\n",
    )
    fails_with(
        data,
        f"events.yaml:{line + 1}: russia-iss-exit: date: Value error, 2024-03-01 is not the "
        "first day of its year: a year-precision date is stored as its period's first day",
    )


def test_invalid_yaml(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "  title: The International Space Station is launched\n",
        "  title: The International Space Station: launched\n",
    )
    fails_with(data, f"events.yaml:{line}: not valid YAML: mapping values are not allowed here")


def test_event_out_of_chronological_order(data: Path) -> None:
    last = read_dataset(SEED_DIR).events[-1].id
    line = append(
        data / "events.yaml",
        "- id: late-entry\n"
        "  title: An event added at the bottom\n"
        "  summary: It belongs near the top.\n"
        "  date: 1990\n"
        "  status: occurred\n"
        "  kind: mission\n"
        "  actors:\n"
        "    - {id: russia, role: subject}\n"
        "  citations:\n"
        "    - source: russia-plans-to-leave-the-iss\n"
        "      quote: It has already built Mir, a modular space station\n",
    )
    fails_with(
        data,
        f"events.yaml:{line + 3}: late-entry: starts before '{last}' listed above it; "
        "list events oldest first",
    )


def test_estimated_publication_date_without_note(data: Path) -> None:
    line = append(
        data / "sources.yaml",
        "- id: undated-article\n"
        "  title: An article with no date\n"
        "  published_date: 2022\n"
        "  published_date_estimated: true\n",
    )
    fails_with(
        data,
        f"sources.yaml:{line + 3}: undated-article: published_date is estimated but "
        "published_date_note does not say how",
    )


def test_actor_listed_twice_on_an_event(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "    - {id: esa, role: partner}\n",
        "    - {id: esa, role: partner}\n    - {id: esa, role: initiator}\n",
    )
    fails_with(
        data,
        f"events.yaml:{line + 1}: iss-launch: actor 'esa' is listed 2 times (partner, "
        "initiator); give each actor the one role the articles support",
    )


def test_kind_contradicts_status(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "  status: planned\n  kind: announcement\n",
        "  status: planned\n  kind: agreement\n",
    )
    fails_with(
        data,
        f"events.yaml:{line}: russia-china-lunar-base-talks: kind agreement cannot be planned "
        "(an agreement is one that was made; planned talks or a deal still to come are an "
        "announcement)",
    )


def test_quote_leaves_a_quotation_open(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        " His initiative was supported at all levels. No one remained\n        indifferent.”",
        " His initiative was supported at all levels.",
    )
    fails_with(
        data,
        f"events.yaml:{line - 3}: victory-banner-spacewalk: the quote opens a quotation (“) it "
        "does not close: quote the whole quotation, with who said it",
    )


def test_quote_starts_inside_a_quotation(data: Path, articles: Path) -> None:
    """The 002 quote on the ISS exit as it was: Rogozin's words without "Rogozin said"."""
    events = data / "events.yaml"
    content = events.read_text(encoding="utf-8")
    claim = content.index("      claimed_date: 2024\n      claimed_qualifier: until\n")
    start = content.rindex("      quote: >-\n", 0, claim)
    events.write_text(
        content[:start]
        + "      quote: >-\n"
        + "        We should not hustle now declaring our stance and will carry on with our work\n"
        + "        within the timeframe set by the government, which is until 2024.\n"
        + content[claim:],
        encoding="utf-8",
    )
    fails_with(
        data,
        f"events.yaml:{content[:start].count(chr(10)) + 1}: russia-iss-exit: the quote starts "
        "inside a quotation in source 'russia-and-china-to-hold-talks-on-lunar-base': start it "
        "where the quotation, and who said it, begins",
    )


def test_inferred_claimed_date_not_flagged(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "      claimed_date: 2020\n      claimed_inferred: true\n",
        "      claimed_date: 2020\n",
    )
    fails_with(
        data,
        f"events.yaml:{line}: spacex-first-crewed-iss-flight: the quote does not give the year "
        "2020 of its claimed_date: mark it claimed_inferred: true and say in the note how the "
        "date was worked out",
    )


def test_inferred_claimed_date_without_note(data: Path) -> None:
    events = data / "events.yaml"
    claim = "      claimed_date: 2020\n      claimed_inferred: true\n"
    line = line_of(events, claim) + 1
    content = events.read_text(encoding="utf-8")
    start = content.index(claim) + len(claim)
    end = content.index("\n\n", start)
    assert content[start:end].startswith("      note: >-\n")
    events.write_text(content[:start] + content[end + 1 :], encoding="utf-8")
    fails_with(
        data,
        f"events.yaml:{line}: spacex-first-crewed-iss-flight: claimed_date is inferred but the "
        "note does not say how",
    )


def test_inferred_flag_without_a_claimed_date(data: Path) -> None:
    events = data / "events.yaml"
    line = replace(
        events,
        "      quote: It is reported that Russia will leave the ISS program by 2025.\n"
        "      claimed_date: 2025\n",
        "      quote: It is reported that Russia will leave the ISS program by 2025.\n"
        "      claimed_inferred: true\n",
    )
    fails_with(
        data,
        f"events.yaml:{line + 1}: russia-iss-exit: claimed_inferred is set but the citation "
        "claims no date",
    )


@pytest.mark.parametrize(
    ("quote", "problem"),
    [
        ("He said, “Yes.” Then he left.", None),
        ('The goal is "to carry out research".', None),
        (
            "Cosmonaut “Artemyev said so. Supported at all levels.",
            "opens a quotation (“) it does not close",
        ),
        ("at all levels. No one remained indifferent.”", "closes a quotation (”) it does not open"),
        (
            '"If we take a decision, we will start negotiations',
            'has an unpaired straight quotation mark (")',
        ),
    ],
)
def test_quote_marks_problem(quote: str, problem: str | None) -> None:
    assert quote_marks_problem(quote) == problem


# (c) What the loaded dataset says, checked against SPEC §2 and §5.


def all_events(client: TestClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/events?limit=200&{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return list(body["items"])


def all_sources(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/sources?limit=200")
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


def prefixes(client: TestClient) -> dict[str, str]:
    """Source id -> its article's three-digit file prefix, the SPEC's name for it."""
    return {s["id"]: s["document"]["file"][:3] for s in all_sources(client)}


def test_every_event_has_a_citation(client: TestClient) -> None:
    assert [e["id"] for e in all_events(client) if not e["citations"]] == []


def test_events_are_listed_oldest_first() -> None:
    starts = [event.date.value for event in read_dataset(SEED_DIR).events]
    assert starts == sorted(starts)


SPEC_TABLE = [
    (
        "iss-launch",
        "20 November 1998",
        "occurred",
        {
            ("russia", "partner"),
            ("united-states", "partner"),
            ("canada", "partner"),
            ("japan", "partner"),
            ("esa", "partner"),
        },
        {"000", "004"},
    ),
    (
        "artemis-accords-signed",
        "13 October 2020",
        "occurred",
        {("united-states", "signatory"), ("nasa", "signatory"), ("russia", "declined")},
        {"001"},
    ),
    (
        "ilrs-memorandum",
        "9 March 2021",
        "occurred",
        {
            ("roscosmos", "signatory"),
            ("cnsa", "signatory"),
            ("russia", "partner"),
            ("china", "partner"),
        },
        {"000", "001", "003"},
    ),
    (
        "russia-iss-exit",
        "2024–2025",
        "planned",
        {("russia", "withdrawing"), ("roscosmos", "withdrawing")},
        {"000", "002", "004"},
    ),
    (
        "ilrs-station",
        "by 2030",
        "planned",
        {("russia", "partner"), ("china", "partner")},
        {"000", "003", "004"},  # 004 beyond the SPEC: "Russia is set to work with China"
    ),
]


@pytest.mark.parametrize(("event_id", "label", "status", "actors", "sources"), SPEC_TABLE)
def test_spec_table_events(
    client: TestClient,
    event_id: str,
    label: str,
    status: str,
    actors: set[tuple[str, str]],
    sources: set[str],
) -> None:
    response = client.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    event = response.json()
    assert (event["date_label"], event["status"]) == (label, status)
    assert actors - {(a["id"], a["role"]) for a in event["actors"]} == set()
    by_prefix = prefixes(client)
    assert {by_prefix[c["source"]["id"]] for c in event["citations"]} == sources


def test_russia_iss_exit_claims_each_articles_date(client: TestClient) -> None:
    event = client.get("/api/v1/events/russia-iss-exit").json()
    by_prefix = prefixes(client)
    claims = {
        (claim["label"], tuple(by_prefix[s] for s in claim["source_ids"]))
        for claim in event["date_claims"]
    }
    assert claims == {("by 2025", ("000",)), ("until 2024", ("002",)), ("after 2024", ("004",))}


def test_ilrs_station_is_at_the_lunar_south_pole(client: TestClient) -> None:
    assert client.get("/api/v1/events/ilrs-station").json()["location"] == "Lunar south pole"


def test_only_the_iss_exit_is_disputed(client: TestClient) -> None:
    assert [e["id"] for e in all_events(client) if e["disputed"]] == ["russia-iss-exit"]


def test_public_record_dates_are_only_those_spec_allows(client: TestClient) -> None:
    allowed = {
        (date(1998, 11, 20), None, "day"),  # the ISS's first module
        (date(1986, 2, 1), date(2001, 3, 1), "month"),  # Mir
        (date(2020, 10, 13), None, "day"),  # the Artemis Accords
        (date(2021, 3, 9), None, "day"),  # the memorandum
        (date(2020, 5, 30), None, "day"),  # SpaceX's first crewed flight to the ISS
    }
    found = {
        (
            date.fromisoformat(e["start_date"]),
            date.fromisoformat(e["end_date"]) if e["end_date"] else None,
            e["date_precision"],
        )
        for e in all_events(client)
        if e["date_source"] == "public_record"
    }
    assert found == allowed


SPEC_COVERAGE = [
    ("Mir's 15 years in orbit", "program=mir", ["mir-in-orbit"]),
    (
        "SpaceX's crewed flight ends Russia's monopoly",
        "actor=spacex",
        ["spacex-first-crewed-iss-flight"],
    ),
    (
        "Russia declines the Artemis Accords",
        "actor=russia&role=declined",
        ["artemis-accords-signed"],
    ),
    ("Putin on the US Space Force", "actor=Space%20Force", ["putin-warns-on-us-space-force"]),
    (
        "Rogozin's own station and its first base module",
        "program=russian-orbital-station",
        ["russian-station-first-module-work", "russian-orbital-station"],
    ),
    (
        "the 2022 sanctions, the de-orbit threat and the withdrawal",
        "from=2022-02&to=2022-02",
        [
            "russia-threatens-iss-deorbit",
            "russia-withdraws-iss-support",
            "western-sanctions-on-russia",
        ],
    ),
    ("the Victory Banner spacewalk", "actor=oleg-artemyev", ["victory-banner-spacewalk"]),
    (
        "Russia-China talks before the end of May 2022",
        "year=2022&status=planned",
        ["russia-china-lunar-base-talks"],
    ),
    (
        "the Artemis 2024 crewed landing goal",
        "program=artemis&year=2024",
        ["artemis-crewed-moon-landing"],
    ),
    (
        "US ISS support to 2024, extension to 2028 considered",
        "actor=nasa&program=iss&year=2024",
        ["us-iss-support-ends"],
    ),
    ("the 2030s human presence on the Moon", "year=2035", ["ilrs-human-presence"]),
]


@pytest.mark.parametrize(
    ("what", "query", "expected"), SPEC_COVERAGE, ids=[row[0] for row in SPEC_COVERAGE]
)
def test_spec_also_covers(client: TestClient, what: str, query: str, expected: list[str]) -> None:
    assert [e["id"] for e in all_events(client, query)] == expected


def test_sidebars_and_ads_are_not_cited(client: TestClient) -> None:
    off_topic = ["Nokia", "4G", "heliosphere", "croissant", "Isaacman", "Trump", "Cheney"]
    quotes = [c["quote"] for e in all_events(client) for c in e["citations"]]
    assert [q for q in quotes if any(word in q for word in off_topic)] == []


def test_sources_as_spec_names_them(client: TestClient) -> None:
    found = {
        s["document"]["file"][:3]: (s["publisher"], s["cites"], s["url"])
        for s in all_sources(client)
    }
    assert found == {
        "000": ("The Post Millennial", ["CNN"], None),
        "001": ("The Western Journal", ["Axios", "Space News"], None),
        "002": (None, ["Washington Examiner", "TASS"], None),
        "003": (None, ["SpaceNews"], None),
        "004": (None, ["Agence France-Presse", "Roscosmos Telegram statement"], None),
    }


def test_publication_dates_are_estimated_and_explained(client: TestClient) -> None:
    unexplained = [
        s["id"]
        for s in all_sources(client)
        if not (s["published_date_estimated"] and s["published_date_note"])
    ]
    assert unexplained == []


# (d) The rules issue 18 found broken, on the loaded data, and who said what.


def all_citations(client: TestClient) -> list[tuple[str, dict[str, Any]]]:
    return [(e["id"], c) for e in all_events(client) for c in e["citations"]]


def test_inferred_claimed_dates_are_flagged(client: TestClient) -> None:
    """A claimed date whose year the quote does not write was worked out: the API says so."""
    citations = all_citations(client)
    unclaimed = {c["claimed_date_inferred"] for _, c in citations if c["claimed_date"] is None}
    assert unclaimed == {None}
    claimed = [(event, c) for event, c in citations if c["claimed_date"] is not None]
    flagged = [event for event, c in claimed if c["claimed_date_inferred"]]
    unwritten = [event for event, c in claimed if c["claimed_date"][:4] not in c["quote"]]
    assert flagged == unwritten
    assert "western-sanctions-on-russia" in flagged  # "In February" made 2022
    assert all(c["note"] for _, c in claimed if c["claimed_date_inferred"])


def test_no_actor_is_listed_twice_on_an_event(client: TestClient) -> None:
    twice = {
        e["id"]: ids
        for e in all_events(client)
        if len(ids := [a["id"] for a in e["actors"]]) != len(set(ids))
    }
    assert twice == {}


def test_kind_agrees_with_status(client: TestClient) -> None:
    contradicted = [
        (e["id"], e["kind"], e["status"])
        for e in all_events(client)
        if e["kind"] in STATUSES_OF_KIND and e["status"] not in STATUSES_OF_KIND[e["kind"]][0]
    ]
    assert contradicted == []
    talks = client.get("/api/v1/events/russia-china-lunar-base-talks").json()
    assert (talks["kind"], talks["status"]) == ("announcement", "planned")


def test_every_quote_pairs_its_quotation_marks(client: TestClient) -> None:
    unpaired = [(event, c["quote"]) for event, c in all_citations(client)]
    assert [(event, q) for event, q in unpaired if quote_marks_problem(q) is not None] == []


def quotes_of(event: dict[str, Any], by_prefix: dict[str, str]) -> list[tuple[str, str]]:
    return [(by_prefix[c["source"]["id"]], c["quote"]) for c in event["citations"]]


def test_the_ageing_station_and_the_offer_to_the_lunar_project_are_two_events(
    client: TestClient,
) -> None:
    by_prefix = prefixes(client)
    sentence = "Roscosmos has already reported that the ISS’s operational life is coming to an end"
    ageing = client.get("/api/v1/events/russia-says-iss-is-ageing").json()
    offer = client.get("/api/v1/events/russia-offers-expedition-experience").json()
    assert [p["id"] for p in ageing["programs"]] == ["iss"]
    assert [p["id"] for p in offer["programs"]] == ["ilrs"]
    for event in (ageing, offer):
        assert [q for p, q in quotes_of(event, by_prefix) if p == "003" and sentence in q] != []


def test_human_presence_is_attributed_to_each_source_as_it_says_it(client: TestClient) -> None:
    by_prefix = prefixes(client)
    goal = client.get("/api/v1/events/ilrs-human-presence").json()
    assert {p for p, _ in quotes_of(goal, by_prefix)} == {"003"}
    statement = client.get("/api/v1/events/russia-statement-on-lunar-station").json()
    prospect = {p for p, q in quotes_of(statement, by_prefix) if "prospect of" in q}
    assert prospect == {"000", "001"}
    speakers = {a["id"] for a in statement["actors"] if a["role"] == "speaker"}
    assert (statement["kind"], speakers) == ("statement", {"roscosmos", "russia"})


def test_the_memorandum_cites_the_sentence_that_says_open_to_partners(client: TestClient) -> None:
    by_prefix = prefixes(client)
    memorandum = client.get("/api/v1/events/ilrs-memorandum").json()
    assert "open to other partners" in memorandum["summary"]
    open_to_all = [
        p for p, q in quotes_of(memorandum, by_prefix) if "open to all international partners" in q
    ]
    assert open_to_all == ["000"]


def test_rogozins_tass_words_are_quoted_whole(client: TestClient) -> None:
    by_prefix = prefixes(client)
    exit_ = client.get("/api/v1/events/russia-iss-exit").json()
    [tass] = [
        c
        for c in exit_["citations"]
        if by_prefix[c["source"]["id"]] == "002" and "2024" in c["quote"]
    ]
    assert tass["quote"].startswith(
        "Speaking with TASS, a state-owned Russian news agency, Rogozin"
    )
    assert "A decision regarding the [International Space Station’s] future" in tass["quote"]
    assert (tass["claimed_date_label"], tass["claimed_date_qualifier"]) == ("until 2024", "until")


ANALYSTS = [
    (
        "Zhang Ming",
        "shanghai-academy-of-social-sciences",
        "001",
        ["zhang-ming-on-us-unilateralism"],
    ),
    (
        "Weeden",
        "secure-world-foundation",
        "001",
        ["weeden-on-us-russia-split", "weeden-on-artemis-impact"],
    ),
    ("Bowen", "university-of-leicester", "003", ["bowen-on-russia-china-convergence"]),
]


@pytest.mark.parametrize(
    ("name", "organisation", "article", "statements"), ANALYSTS, ids=[a[0] for a in ANALYSTS]
)
def test_analysts_are_people_under_their_organisation_with_their_statements(
    client: TestClient, name: str, organisation: str, article: str, statements: list[str]
) -> None:
    found = client.get("/api/v1/actors", params={"q": name.split()[-1]}).json()["items"]
    [person] = [a for a in found if a["kind"] == "person"]
    assert person["parent"]["id"] == organisation
    org = client.get(f"/api/v1/actors/{organisation}").json()
    assert (org["kind"], [c["id"] for c in org["children"]]) == ("organization", [person["id"]])
    events = all_events(client, f"actor={name.replace(' ', '%20')}&role=speaker")
    assert sorted(e["id"] for e in events) == sorted(statements)
    by_prefix = prefixes(client)
    for event in events:
        assert event["kind"] == "statement"
        cited = quotes_of(event, by_prefix)
        assert {p for p, _ in cited} == {article}
        assert [q for _, q in cited if name.split()[-1] in q] != []
