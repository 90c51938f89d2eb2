"""event_year index by event, year and start date

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:00:00

Queries driven by a few actors' events ask, for each event, whether it falls in a year and
when it starts: with the year and start date in the index, that is one index probe.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_year", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_year_event_id_year", ["event_id", "year", "start_date"], unique=False
        )
        batch_op.drop_index("ix_event_year_event_id")


def downgrade() -> None:
    with op.batch_alter_table("event_year", schema=None) as batch_op:
        batch_op.create_index("ix_event_year_event_id", ["event_id"], unique=False)
        batch_op.drop_index("ix_event_year_event_id_year")
