"""Cross-record checks of the dataset: references, duplicates, quotes and checksums."""

import hashlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from app.core.names import lookup_key
from app.events.models import EventKind, EventStatus
from seed.schema import CitationRecord, Dataset, Problem, normalise_space

# The statuses each kind of event can have, and why: a kind the status contradicts says two
# different things about the same event.
STATUSES_OF_KIND = {
    EventKind.statement: (
        {EventStatus.occurred},
        "a statement is reported once it has been made",
    ),
    EventKind.agreement: (
        {EventStatus.occurred, EventStatus.cancelled},
        "an agreement is one that was made; planned talks or a deal still to come are an "
        "announcement",
    ),
}


def check_dataset(dataset: Dataset, articles_dir: Path | None) -> list[Problem]:
    """Every problem the records have together; quotes and checksums only when articles exist."""
    problems: list[Problem] = []
    problems += _duplicates("actors.yaml", "actor", ((a.id, a.line) for a in dataset.actors))
    problems += _duplicates("programs.yaml", "program", ((p.id, p.line) for p in dataset.programs))
    problems += _duplicates("sources.yaml", "source", ((s.id, s.line) for s in dataset.sources))
    problems += _duplicates("events.yaml", "event", ((e.id, e.line) for e in dataset.events))
    problems += _name_clashes(
        "actors.yaml",
        [(a.id, [a.id, a.name, *a.aliases], a.line_of("aliases")) for a in dataset.actors],
    )
    problems += _name_clashes(
        "programs.yaml",
        [(p.id, [p.id, p.name, *p.aliases], p.line_of("aliases")) for p in dataset.programs],
    )
    problems += _actor_parents(dataset)
    problems += _estimated_dates(dataset)
    problems += _event_links(dataset)
    problems += _event_order(dataset)
    problems += _kinds_and_statuses(dataset)
    problems += _citation_claims(dataset)
    if articles_dir is not None and articles_dir.is_dir():
        problems += _documents(dataset, articles_dir)
    return problems


def _duplicates(file: str, label: str, ids: Iterable[tuple[str, int]]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for record_id, line in ids:
        if record_id in seen:
            problems.append(
                Problem(
                    file,
                    line,
                    f"duplicate {label} id '{record_id}' (first at line {seen[record_id]})",
                )
            )
        else:
            seen[record_id] = line
    return problems


def _name_clashes(file: str, records: list[tuple[str, list[str], int]]) -> list[Problem]:
    owner: dict[str, str] = {}
    problems = []
    for record_id, names, line in records:
        for name in {lookup_key(n) for n in names}:
            other = owner.setdefault(name, record_id)
            if other != record_id:
                problems.append(
                    Problem(file, line, f"'{name}' names both '{other}' and '{record_id}'")
                )
    return problems


def _actor_parents(dataset: Dataset) -> list[Problem]:
    parents = {a.id: a.parent for a in dataset.actors}
    problems = []
    for actor in dataset.actors:
        if actor.parent is not None and actor.parent not in parents:
            problems.append(
                Problem(
                    "actors.yaml",
                    actor.line_of("parent"),
                    f"{actor.id}: unknown parent actor '{actor.parent}'",
                )
            )
            continue
        seen = {actor.id}
        current = actor.parent
        while current is not None:
            if current in seen:
                problems.append(
                    Problem(
                        "actors.yaml",
                        actor.line_of("parent"),
                        f"{actor.id}: parents form a cycle through '{current}'",
                    )
                )
                break
            seen.add(current)
            current = parents.get(current)
    return problems


def _estimated_dates(dataset: Dataset) -> list[Problem]:
    """An estimated publication date must say how it was estimated: readers will ask."""
    return [
        Problem(
            "sources.yaml",
            source.line_of("published_date_estimated"),
            f"{source.id}: published_date is estimated but published_date_note does not say how",
        )
        for source in dataset.sources
        if source.published_date_estimated and not source.published_date_note
    ]


def _event_order(dataset: Dataset) -> list[Problem]:
    """events.yaml is read as a timeline, so events must be listed oldest first."""
    problems = []
    latest = None
    for event in dataset.events:
        if latest is not None and event.date.value < latest.date.value:
            problems.append(
                Problem(
                    "events.yaml",
                    event.line_of("date"),
                    f"{event.id}: starts before '{latest.id}' listed above it; "
                    "list events oldest first",
                )
            )
        else:
            latest = event
    return problems


def _kinds_and_statuses(dataset: Dataset) -> list[Problem]:
    """A kind the status contradicts: planned talks are not yet an agreement."""
    problems = []
    for event in dataset.events:
        if event.kind not in STATUSES_OF_KIND:
            continue
        allowed, reason = STATUSES_OF_KIND[event.kind]
        if event.status not in allowed:
            problems.append(
                Problem(
                    "events.yaml",
                    event.line_of("status"),
                    f"{event.id}: kind {event.kind.value} cannot be {event.status.value} "
                    f"({reason})",
                )
            )
    return problems


def quote_marks_problem(quote: str) -> str | None:
    """Why a quote's quotation marks do not pair up, or None when they do."""
    depth = 0
    for char in quote:
        if char == "“":
            depth += 1
        elif char == "”":
            if depth == 0:
                return "closes a quotation (”) it does not open"
            depth -= 1
    if depth:
        return "opens a quotation (“) it does not close"
    if quote.count('"') % 2:
        return 'has an unpaired straight quotation mark (")'
    return None


def _citation_claims(dataset: Dataset) -> list[Problem]:
    """Quotes whose quotation marks do not pair, and claimed dates that hide an inference."""
    problems = []
    for event in dataset.events:
        for citation in event.citations:
            problems += [
                Problem("events.yaml", line, f"{event.id}: {message}")
                for line, message in _claim_problems(citation)
            ]
    return problems


def _claim_problems(citation: CitationRecord) -> list[tuple[int, str]]:
    found = []
    marks = quote_marks_problem(citation.quote)
    if marks is not None:
        found.append(
            (
                citation.line_of("quote"),
                f"the quote {marks}: quote the whole quotation, with who said it",
            )
        )
    claimed = citation.claimed_date
    if claimed is None:
        if citation.claimed_inferred:
            found.append(
                (
                    citation.line_of("claimed_inferred"),
                    "claimed_inferred is set but the citation claims no date",
                )
            )
        return found
    year = str(claimed.value.year)
    if year not in citation.quote and not citation.claimed_inferred:
        found.append(
            (
                citation.line_of("claimed_date"),
                f"the quote does not give the year {year} of its claimed_date: mark it "
                "claimed_inferred: true and say in the note how the date was worked out",
            )
        )
    if citation.claimed_inferred and not citation.note:
        found.append(
            (
                citation.line_of("claimed_inferred"),
                "claimed_date is inferred but the note does not say how",
            )
        )
    return found


def _event_links(dataset: Dataset) -> list[Problem]:
    actors = {a.id for a in dataset.actors}
    programs = {p.id for p in dataset.programs}
    sources = {s.id for s in dataset.sources}
    problems = []
    for event in dataset.events:
        where = f"{event.id}:"
        if event.end is not None and event.end.value < event.date.value:
            problems.append(
                Problem("events.yaml", event.line_of("end"), f"{where} the end precedes the start")
            )
        counts = Counter(link.id for link in event.actors)
        listed: set[str] = set()
        for link in event.actors:
            if link.id not in actors:
                problems.append(
                    Problem("events.yaml", link.line, f"{where} unknown actor '{link.id}'")
                )
            if counts[link.id] > 1 and link.id in listed:
                roles = ", ".join(a.role.value for a in event.actors if a.id == link.id)
                problems.append(
                    Problem(
                        "events.yaml",
                        link.line,
                        f"{where} actor '{link.id}' is listed {counts[link.id]} times "
                        f"({roles}); give each actor the one role the articles support",
                    )
                )
            listed.add(link.id)
        for program in event.programs:
            if program not in programs:
                problems.append(
                    Problem(
                        "events.yaml",
                        event.line_of("programs"),
                        f"{where} unknown program '{program}'",
                    )
                )
        for citation in event.citations:
            if citation.source not in sources:
                problems.append(
                    Problem(
                        "events.yaml", citation.line, f"{where} unknown source '{citation.source}'"
                    )
                )
    return problems


def _documents(dataset: Dataset, articles_dir: Path) -> list[Problem]:
    texts: dict[str, _Text] = {}
    problems = []
    for source in dataset.sources:
        document = source.document
        if document is None:
            continue
        path = articles_dir / document.file
        if not path.is_file():
            problems.append(
                Problem(
                    "sources.yaml",
                    document.line,
                    f"{source.id}: article file '{document.file}' not found",
                )
            )
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != document.sha256:
            problems.append(
                Problem(
                    "sources.yaml",
                    document.line_of("sha256"),
                    f"{source.id}: sha256 mismatch for '{document.file}' (file has {digest})",
                )
            )
        texts[source.id] = _Text(data.decode("utf-8"))
    for event in dataset.events:
        for citation in event.citations:
            text = texts.get(citation.source)
            if text is None:
                continue
            if citation.quote not in text.normalised:
                problems.append(
                    Problem(
                        "events.yaml",
                        citation.line_of("quote"),
                        f"{event.id}: quote not found verbatim in source "
                        f"'{citation.source}': \"{citation.quote[:60]}…\"",
                    )
                )
            elif text.inside_quotation(citation.quote):
                problems.append(
                    Problem(
                        "events.yaml",
                        citation.line_of("quote"),
                        f"{event.id}: the quote starts inside a quotation in source "
                        f"'{citation.source}': start it where the quotation, and who said it, "
                        "begins",
                    )
                )
    return problems


class _Text:
    """An article's whitespace-normalised text, and where each of its paragraphs starts."""

    def __init__(self, raw: str) -> None:
        paragraphs = [normalise_space(line) for line in raw.splitlines() if line.strip()]
        self.normalised = " ".join(paragraphs)
        self.starts: list[int] = []
        offset = 0
        for paragraph in paragraphs:
            self.starts.append(offset)
            offset += len(paragraph) + 1

    def inside_quotation(self, quote: str) -> bool:
        """Whether the quote's first occurrence opens inside a quotation of its paragraph."""
        at = self.normalised.find(quote)
        start = max((s for s in self.starts if s <= at), default=0)
        before = self.normalised[start:at]
        return before.count("“") > before.count("”") or before.count('"') % 2 == 1
