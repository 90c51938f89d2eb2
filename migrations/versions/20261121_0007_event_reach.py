"""event reach index: actor (with everything below it) by year, in date order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_reach",
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_reach_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "actor_id", "year", "start_date", "event_id", name=op.f("pk_event_reach")
        ),
    )
    with op.batch_alter_table("event_reach", schema=None) as batch_op:
        batch_op.create_index("ix_event_reach_event_id", ["event_id"], unique=False)
    # Every event's actors and the actors above them, for each year it covers.
    op.execute(
        "WITH RECURSIVE up(actor_id, ancestor_id, depth) AS ("
        " SELECT id, id, 0 FROM actor"
        " UNION ALL"
        " SELECT up.actor_id, actor.parent_id, up.depth + 1 FROM up"
        " JOIN actor ON actor.id = up.ancestor_id"
        " WHERE actor.parent_id IS NOT NULL AND up.depth < 32)"
        " INSERT INTO event_reach (actor_id, year, start_date, event_id)"
        " SELECT DISTINCT up.ancestor_id, ey.year, ey.start_date, ey.event_id"
        " FROM event_year ey"
        " JOIN event_actor ea ON ea.event_id = ey.event_id"
        " JOIN up ON up.actor_id = ea.actor_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("event_reach", schema=None) as batch_op:
        batch_op.drop_index("ix_event_reach_event_id")

    op.drop_table("event_reach")
