"""Creating, changing and deleting sources, with their history."""

from datetime import date
from typing import Any, Self

from pydantic import Field, model_validator
from sqlalchemy import column, table
from sqlmodel import Session

from app.core.dates import Precision, is_period_start, period_end
from app.core.editing import (
    REASON_HELP,
    SLUG,
    ConflictError,
    InvalidDataError,
    WriteModel,
    never_null,
    referrers,
)
from app.core.names import slugify
from app.history.models import Action, Entity
from app.history.service import Snapshot, Tracked, recorded
from app.sources.models import Source

FIELDS = (
    "title",
    "publisher",
    "url",
    "published_date",
    "published_date_precision",
    "published_date_estimated",
    "published_date_note",
    "cites",
    "document_file",
    "document_sha256",
)
_citation = table("citation", column("event_id"), column("source_id"))


class DocumentIn(WriteModel):
    file: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SourceCreate(WriteModel):
    id: str | None = Field(
        default=None, pattern=SLUG, max_length=120, description="Defaults to a slug of the title."
    )
    title: str = Field(min_length=1, max_length=500)
    publisher: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    published_date: date | None = None
    published_date_precision: Precision | None = None
    published_date_estimated: bool = False
    published_date_note: str | None = Field(default=None, max_length=2000)
    cites: list[str] = Field(default=[], max_length=50)
    document: DocumentIn | None = None
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)

    @model_validator(mode="after")
    def _dates(self) -> Self:
        check_published(self.published_date, self.published_date_precision)
        return self


class SourceUpdate(WriteModel):
    title: str | None = Field(
        default=None, min_length=1, max_length=500, json_schema_extra=never_null
    )
    publisher: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    published_date: date | None = None
    published_date_precision: Precision | None = None
    published_date_estimated: bool | None = Field(default=None, json_schema_extra=never_null)
    published_date_note: str | None = Field(default=None, max_length=2000)
    cites: list[str] | None = Field(default=None, max_length=50, json_schema_extra=never_null)
    document: DocumentIn | None = None
    reason: str | None = Field(default=None, max_length=1000, description=REASON_HELP)


def check_published(published: date | None, precision: Precision | None) -> None:
    if (published is None) != (precision is None):
        raise ValueError("published_date and published_date_precision go together")
    if published and precision and not is_period_start(published, precision):
        raise ValueError(f"published_date {published} is not the first day of its {precision}")


def source_snapshot(source: Source) -> Snapshot:
    snapshot: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(source, name)
        snapshot[name] = value.isoformat() if isinstance(value, date) else value
    return snapshot


SOURCE = Tracked(Entity.source, lambda _, source: source_snapshot(source))


def _apply(source: Source, values: dict[str, Any]) -> None:
    document = values.pop("document", ...)
    if document is not ...:
        source.document_file = document["file"] if document else None
        source.document_sha256 = document["sha256"] if document else None
    for name, value in values.items():
        setattr(source, name, value)
    try:
        precision = (
            Precision(source.published_date_precision)
            if (source.published_date_precision)
            else None
        )
        check_published(source.published_date, precision)
    except ValueError as exc:
        raise InvalidDataError(str(exc)) from None
    source.published_until = (
        period_end(source.published_date, precision)
        if source.published_date and precision
        else None
    )


def create_source(
    session: Session, data: SourceCreate, *, author: str, reason: str | None
) -> Source:
    source_id = data.id or slugify(data.title, "source")
    if session.get(Source, source_id) is not None:
        raise ConflictError(f"a source with id '{source_id}' already exists", id=source_id)
    source = Source(id=source_id, title=data.title, updated_by=author)
    with recorded(session, SOURCE, source, Action.create, author=author, reason=reason):
        _apply(source, data.model_dump(exclude={"id", "reason"}))
        session.add(source)
    return source


def update_source(
    session: Session, source: Source, data: SourceUpdate, *, author: str, reason: str | None
) -> Source:
    """Apply the fields given; the events citing the source follow its revision."""
    values = data.model_dump(exclude_unset=True, exclude={"reason"})
    for name in ("title", "published_date_estimated", "cites"):
        if name in values and values[name] is None:
            raise InvalidDataError(f"{name} cannot be null")
    with recorded(session, SOURCE, source, Action.update, author=author, reason=reason):
        _apply(source, values)
    return source


def delete_source(session: Session, source: Source, *, author: str, reason: str | None) -> None:
    """Delete a source no citation uses; 409 naming the events that cite it otherwise."""
    events = referrers(session, _citation.c.event_id, _citation.c.source_id, source.id)
    if events:
        raise ConflictError(
            f"source '{source.id}' is cited by these events: {', '.join(events)}",
            events=events,
        )
    with recorded(session, SOURCE, source, Action.delete, author=author, reason=reason):
        session.delete(source)
