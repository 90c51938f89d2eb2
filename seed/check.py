"""Cross-record checks of the dataset: references, duplicates, quotes and checksums."""

import hashlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from app.core.names import lookup_key
from seed.schema import Dataset, Problem, normalise_space


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
        pairs = Counter((link.id, link.role) for link in event.actors)
        for link in event.actors:
            if link.id not in actors:
                problems.append(
                    Problem("events.yaml", link.line, f"{where} unknown actor '{link.id}'")
                )
            if pairs[(link.id, link.role)] > 1:
                problems.append(
                    Problem(
                        "events.yaml",
                        link.line,
                        f"{where} actor '{link.id}' is listed twice as {link.role.value}",
                    )
                )
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
    texts: dict[str, str] = {}
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
        texts[source.id] = normalise_space(data.decode("utf-8"))
    for event in dataset.events:
        for citation in event.citations:
            text = texts.get(citation.source)
            if text is not None and citation.quote not in text:
                problems.append(
                    Problem(
                        "events.yaml",
                        citation.line_of("quote"),
                        f"{event.id}: quote not found verbatim in source "
                        f"'{citation.source}': \"{citation.quote[:60]}…\"",
                    )
                )
    return problems
