"""Full-text search index, the data version counter, and sources' last possible day

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 11:08:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.core.dates import Precision, period_end

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    data_version = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(data_version, [{"id": 1, "version": 1, "changed_at": datetime.now(UTC)}])
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_until", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_source_published_until"), ["published_until"], unique=False
        )
    _backfill_published_until()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE event_search ("
            " id BIGSERIAL CONSTRAINT pk_event_search PRIMARY KEY,"
            " event_id VARCHAR(120) NOT NULL,"
            " citation_id INTEGER,"
            " document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_event_search_document ON event_search USING GIN (document)")
        op.execute("CREATE INDEX ix_event_search_event_id ON event_search (event_id)")
        op.execute(
            "INSERT INTO event_search (event_id, citation_id, document) "
            "SELECT id, NULL, setweight(to_tsvector('english', title), 'A') || "
            "setweight(to_tsvector('english', summary), 'B') FROM event"
        )
        op.execute(
            "INSERT INTO event_search (event_id, citation_id, document) "
            "SELECT event_id, id, setweight(to_tsvector('english', quote), 'B') FROM citation"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE event_search USING fts5("
            "title, body, event_id UNINDEXED, citation_id UNINDEXED, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        # Rank by BM25 with a title match worth ten times a match in the body.
        op.execute(
            "INSERT INTO event_search (event_search, rank) VALUES ('rank', 'bm25(10.0, 1.0)')"
        )
        op.execute(
            "INSERT INTO event_search (title, body, event_id, citation_id) "
            "SELECT title, summary, id, NULL FROM event"
        )
        op.execute(
            "INSERT INTO event_search (title, body, event_id, citation_id) "
            "SELECT '', quote, event_id, id FROM citation"
        )


def _backfill_published_until() -> None:
    source = sa.table(
        "source",
        sa.column("id", sa.String),
        sa.column("published_date", sa.Date),
        sa.column("published_date_precision", sa.String),
        sa.column("published_until", sa.Date),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(source.c.id, source.c.published_date, source.c.published_date_precision).where(
            source.c.published_date.is_not(None)
        )
    ).all()
    for source_id, published, precision in rows:
        last = period_end(published, Precision(precision or "day"))
        bind.execute(source.update().where(source.c.id == source_id).values(published_until=last))


def downgrade() -> None:
    op.execute("DROP TABLE event_search")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_published_until"))
        batch_op.drop_column("published_until")
    op.drop_table("data_version")
