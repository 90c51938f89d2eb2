"""The dataset's file format: YAML records read with their line numbers and validated."""

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from app.actors.models import ActorKind
from app.core.dates import (
    ClaimQualifier,
    PartialDate,
    Precision,
    Qualifier,
    is_period_start,
    parse_partial_date,
)
from app.events.models import ActorRole, DateSource, EventKind, EventStatus

FILES = ("actors", "programs", "sources", "events")
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_DECADE = re.compile(r"^(\d{3}0)s$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the dataset, located to a file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SeedError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers where each mapping and each of its keys starts."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key '{key}'", problem_mark=key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def to_partial_date(value: object, precision: Precision | None = None) -> PartialDate:
    """Read a date as an editor writes it: 2021-03-09, 2021-03, 2021, or 2030s.

    With an explicit precision the date must be the first day of its period.
    """
    if isinstance(value, date):
        parsed = PartialDate(value, Precision.day)
    elif isinstance(value, int):
        parsed = parse_partial_date(f"{value:04d}")
    elif isinstance(value, str) and (decade := _DECADE.match(value.strip())):
        parsed = PartialDate(date(int(decade.group(1)), 1, 1), Precision.decade)
    elif isinstance(value, str):
        parsed = parse_partial_date(value)
    else:
        raise ValueError(f"'{value}' is not a date: use YYYY-MM-DD, YYYY-MM, YYYY or 2030s")
    if precision is None:
        return parsed
    if not is_period_start(parsed.value, precision):
        raise ValueError(
            f"{parsed.value.isoformat()} is not the first day of its {precision.value}: "
            f"a {precision.value}-precision date is stored as its period's first day"
        )
    return PartialDate(parsed.value, precision)


class _Record(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, arbitrary_types_allowed=True
    )

    line: int = Field(alias="__line__", exclude=True)
    lines: dict[str, int] = Field(alias="__lines__", exclude=True)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class ActorRecord(_Record):
    id: str = Field(pattern=_SLUG, max_length=80)
    name: str = Field(min_length=1, max_length=200)
    kind: ActorKind
    parent: str | None = None
    aliases: list[str] = []
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    wikidata_id: str | None = Field(default=None, pattern=r"^Q[0-9]+$")
    description: str | None = None


class ProgramRecord(_Record):
    id: str = Field(pattern=_SLUG, max_length=80)
    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = []
    description: str | None = None


class DocumentRecord(_Record):
    file: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SourceRecord(_Record):
    id: str = Field(pattern=_SLUG, max_length=120)
    title: str = Field(min_length=1, max_length=500)
    publisher: str | None = None
    url: str | None = None
    published_date_precision: Precision | None = None
    published_date: PartialDate | None = None
    published_date_estimated: bool = False
    published_date_note: str | None = None
    cites: list[str] = []
    document: DocumentRecord | None = None

    @field_validator("published_date", mode="before")
    @classmethod
    def _published(cls, value: object, info: ValidationInfo) -> PartialDate | None:
        if value is None:
            return None
        return to_partial_date(value, info.data.get("published_date_precision"))


class ActorLink(_Record):
    id: str
    role: ActorRole


class CitationRecord(_Record):
    source: str
    quote: str = Field(min_length=1)
    claimed_precision: Precision | None = None
    claimed_date: PartialDate | None = None
    claimed_qualifier: ClaimQualifier = ClaimQualifier.exact
    claimed_inferred: bool = False
    note: str | None = None

    @field_validator("quote")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_space(value)

    @field_validator("claimed_date", mode="before")
    @classmethod
    def _claimed(cls, value: object, info: ValidationInfo) -> PartialDate | None:
        if value is None:
            return None
        return to_partial_date(value, info.data.get("claimed_precision"))


class EventRecord(_Record):
    id: str = Field(pattern=_SLUG, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1)
    precision: Precision | None = None
    date: PartialDate
    end: PartialDate | None = None
    qualifier: Qualifier = Qualifier.exact
    date_source: DateSource = DateSource.article
    status: EventStatus
    kind: EventKind
    location: str | None = None
    actors: list[ActorLink] = Field(min_length=1)
    programs: list[str] = []
    citations: list[CitationRecord] = Field(min_length=1)

    @field_validator("summary")
    @classmethod
    def _one_paragraph(cls, value: str) -> str:
        return normalise_space(value)

    @field_validator("date", mode="before")
    @classmethod
    def _start(cls, value: object, info: ValidationInfo) -> PartialDate:
        return to_partial_date(value, info.data.get("precision"))

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: object, info: ValidationInfo) -> PartialDate | None:
        if value is None:
            return None
        start = info.data.get("date")
        precision = info.data.get("precision") or (start.precision if start else None)
        end = to_partial_date(value, precision)
        if start is not None and end.precision != start.precision:
            raise ValueError("the end must have the same precision as the start")
        return end


RECORD_TYPES: dict[str, type[_Record]] = {
    "actors": ActorRecord,
    "programs": ProgramRecord,
    "sources": SourceRecord,
    "events": EventRecord,
}


@dataclass
class Dataset:
    directory: Path
    actors: list[ActorRecord] = field(default_factory=list)
    programs: list[ProgramRecord] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)


def normalise_space(value: str) -> str:
    return " ".join(value.split())


def _locate(raw: Any, loc: tuple[int | str, ...], fallback: int) -> int:
    """The line of the innermost mapping (or key) a validation error points into."""
    line = fallback
    node = raw
    for part in loc:
        if isinstance(node, dict):
            line = node.get("__lines__", {}).get(str(part), node.get("__line__", line))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict):
                line = node.get("__line__", line)
        else:
            break
    return line


def read_dataset(directory: Path) -> Dataset:
    """Read and validate every file; raise SeedError listing every problem found."""
    dataset = Dataset(directory)
    problems: list[Problem] = []
    for name in FILES:
        path = directory / f"{name}.yaml"
        if not path.exists():
            problems.append(Problem(path.name, 0, "file is missing"))
            continue
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = mark.line + 1 if mark else 0
            problems.append(Problem(path.name, line, f"not valid YAML: {exc.problem}"))
            continue
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            problems.append(Problem(path.name, 1, "the file must be a list of records"))
            continue
        record_type = RECORD_TYPES[name]
        records: list[Any] = getattr(dataset, name)
        for item in raw:
            if not isinstance(item, dict):
                problems.append(Problem(path.name, 0, f"a record must be a mapping, not {item!r}"))
                continue
            try:
                records.append(record_type.model_validate(item))
            except ValidationError as exc:
                for error in exc.errors():
                    loc = error["loc"]
                    where = ".".join(str(p) for p in loc)
                    label = item.get("id", "?")
                    line = _locate(item, loc, item["__line__"])
                    message = _error_message(error)
                    problems.append(Problem(path.name, line, f"{label}: {where}: {message}"))
    if problems:
        raise SeedError(problems)
    return dataset


def _error_message(error: Any) -> str:
    kind: Literal["extra_forbidden", "missing"] | str = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    return str(error["msg"])
