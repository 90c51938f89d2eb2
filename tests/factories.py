"""Plain functions that build small datasets and load them through the seed loader."""

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from seed.loader import SeedReport, load_dataset
from seed.schema import ActorRecord, Dataset, EventRecord, ProgramRecord, SourceRecord


def _lines(data: Any) -> Any:
    """Give every mapping the line bookkeeping the YAML reader would add."""
    if isinstance(data, dict):
        out = {k: _lines(v) for k, v in data.items()}
        out.setdefault("__line__", 1)
        out.setdefault("__lines__", {})
        return out
    if isinstance(data, list):
        return [_lines(v) for v in data]
    return data


def actor(
    id: str, kind: str = "country", parent: str | None = None, **extra: Any
) -> dict[str, Any]:
    name = extra.pop("name", id.replace("-", " ").title())
    return {"id": id, "name": name, "kind": kind, "parent": parent, **extra}


def program(id: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "name": extra.pop("name", id.upper()), **extra}


def source(id: str, published: object = "2021-03", **extra: Any) -> dict[str, Any]:
    return {"id": id, "title": f"Article {id}", "published_date": published, **extra}


def citation(source: str, quote: str = "A sentence.", **extra: Any) -> dict[str, Any]:
    return {"source": source, "quote": quote, **extra}


def event(
    id: str,
    date: object,
    actors: list[tuple[str, str]],
    *,
    citations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "title": extra.pop("title", f"Event {id}"),
        "summary": extra.pop("summary", f"Summary of {id}."),
        "date": date,
        "status": extra.pop("status", "occurred"),
        "kind": extra.pop("kind", "agreement"),
        "actors": [{"id": a, "role": r} for a, r in actors],
        "citations": citations or [citation("s1")],
        **extra,
    }


def dataset(
    *,
    actors: list[dict[str, Any]],
    events: list[dict[str, Any]],
    programs: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
) -> Dataset:
    return Dataset(
        directory=Path("."),
        actors=[ActorRecord.model_validate(_lines(a)) for a in actors],
        programs=[ProgramRecord.model_validate(_lines(p)) for p in programs or []],
        sources=[SourceRecord.model_validate(_lines(s)) for s in sources or [source("s1")]],
        events=[EventRecord.model_validate(_lines(e)) for e in events],
    )


def load(engine: Engine, data: Dataset, *, force: bool = False) -> SeedReport:
    with Session(engine) as session:
        report = load_dataset(session, data, force=force)
        session.commit()
    return report
