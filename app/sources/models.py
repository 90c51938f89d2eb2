"""Sources: the news articles that report events, with the document they came from."""

from datetime import date

from sqlalchemy import JSON, CheckConstraint, String
from sqlmodel import Field, SQLModel

from app.core.dates import Precision
from app.core.models import Identified, RowMeta, bytewise, enum_check


class SourceBase(SQLModel):
    title: str = Field(max_length=500)
    publisher: str | None = Field(
        default=None,
        max_length=200,
        description="The outlet, only where the article names itself; otherwise null.",
    )
    url: str | None = Field(default=None, max_length=2000)
    published_date: date | None = Field(
        default=None, description="First day of the publication period, to its precision."
    )
    published_date_precision: Precision | None = Field(default=None, sa_type=String(10))
    published_date_estimated: bool = Field(
        default=False, description="True when the date was inferred from the article's content."
    )
    published_date_note: str | None = Field(
        default=None, max_length=2000, description="How the publication date was worked out."
    )
    cites: list[str] = Field(
        default_factory=list,
        sa_type=JSON,
        description="Outlets the article relies on, as it names them.",
    )


class Source(SourceBase, RowMeta, table=True):
    __table_args__ = (
        CheckConstraint(
            enum_check("published_date_precision", list(Precision)), name="published_precision"
        ),
    )

    id: str = Field(primary_key=True, max_length=120, sa_type=bytewise(120))
    published_until: date | None = Field(
        default=None,
        index=True,
        description="Last day the article can have appeared: its date widened to its precision.",
    )
    document_file: str | None = Field(default=None, max_length=255, index=True)
    document_sha256: str | None = Field(default=None, max_length=64)


class SourceDocument(SQLModel):
    file: str = Field(schema_extra={"examples": ["003_8e854a67f184ff0b.txt"]})
    sha256: str


class SourceRef(SQLModel):
    """A source as a citation shows it."""

    id: str
    title: str
    publisher: str | None
    published_date: date | None
    published_date_precision: Precision | None
    published_date_estimated: bool


class SourcePublic(SourceBase, Identified):
    id: str
    document: SourceDocument | None


class SourceCitation(SQLModel):
    """A sentence of this source that supports an event."""

    citation_id: int
    event_id: str
    event_title: str
    quote: str
    note: str | None


class SourceDetail(SourcePublic):
    citations: list[SourceCitation] = Field(
        description="Every event this source supports, with the supporting sentence."
    )
