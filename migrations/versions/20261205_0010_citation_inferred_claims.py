"""a citation says when its claimed date is inferred, and may claim "until" a date

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:30:00

`claimed_date_inferred` is true when part of a citation's claimed date is worked out rather
than stated (the year of "in February" from the article's estimated publication), false when
the source states it, NULL when the citation claims no date. `claimed_date_qualifier` gains
"until" ("our work until 2024"). Stored event documents show citations, so they are dropped
here and rebuilt by the app after it migrates (`app.events.documents.store_missing`); the data
version moves on so that caches and list ETags made before the upgrade are not reused.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CITATION = sa.table(
    "citation",
    sa.column("claimed_date", sa.Date()),
    sa.column("claimed_date_qualifier", sa.String(10)),
    sa.column("claimed_date_inferred", sa.Boolean()),
)
_OLD_QUALIFIERS = "claimed_date_qualifier IN ('exact', 'circa', 'by', 'after')"
_NEW_QUALIFIERS = "claimed_date_qualifier IN ('exact', 'circa', 'by', 'after', 'until')"


def _documents_are_stale() -> None:
    op.execute("DELETE FROM event_document")
    op.execute("UPDATE data_version SET version = version + 1")


def upgrade() -> None:
    with op.batch_alter_table("citation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_date_inferred", sa.Boolean(), nullable=True))
        batch_op.drop_constraint(op.f("ck_citation_claimed_qualifier"), type_="check")
        batch_op.create_check_constraint(op.f("ck_citation_claimed_qualifier"), _NEW_QUALIFIERS)
    op.execute(
        _CITATION.update()
        .where(_CITATION.c.claimed_date.is_not(None))
        .values(claimed_date_inferred=sa.false())
    )
    _documents_are_stale()


def downgrade() -> None:
    # "until" has no older equivalent: such a claim keeps its date, worded as plainly stated.
    op.execute(
        _CITATION.update()
        .where(_CITATION.c.claimed_date_qualifier == "until")
        .values(claimed_date_qualifier="exact")
    )
    with op.batch_alter_table("citation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_citation_claimed_qualifier"), type_="check")
        batch_op.create_check_constraint(op.f("ck_citation_claimed_qualifier"), _OLD_QUALIFIERS)
        batch_op.drop_column("claimed_date_inferred")
    # What was dropped came from the seed: the next `seed` after an upgrade writes it again.
    op.execute("UPDATE seed_record SET digest = '' WHERE kind = 'event'")
    _documents_are_stale()
