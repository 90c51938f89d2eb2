"""event year index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_year",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_year_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("year", "start_date", "event_id", name=op.f("pk_event_year")),
    )
    with op.batch_alter_table("event_year", schema=None) as batch_op:
        batch_op.create_index("ix_event_year_event_id", ["event_id"], unique=False)
    # One row for each year an event's period overlaps (its start and span_end years).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO event_year (year, start_date, event_id) "
            "SELECT y, start_date, id FROM event, generate_series("
            "extract(year FROM start_date)::int, extract(year FROM span_end)::int) AS y"
        )
    else:
        op.execute(
            "WITH RECURSIVE years(y) AS (SELECT 1900 UNION ALL SELECT y + 1 FROM years "
            "WHERE y < 2200) INSERT INTO event_year (year, start_date, event_id) "
            "SELECT y, start_date, id FROM event JOIN years "
            "ON y BETWEEN CAST(strftime('%Y', start_date) AS INTEGER) "
            "AND CAST(strftime('%Y', span_end) AS INTEGER)"
        )


def downgrade() -> None:
    with op.batch_alter_table("event_year", schema=None) as batch_op:
        batch_op.drop_index("ix_event_year_event_id")

    op.drop_table("event_year")
