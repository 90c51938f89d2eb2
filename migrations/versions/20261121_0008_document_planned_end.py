"""the day a stored document's planned date passes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 16:40:00

`planned_end` is the event's last day while its status is "planned" (NULL otherwise), so a
page of stored documents sets `planned_date_passed` without reading the event itself.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_end", sa.Date(), nullable=True))
    op.execute(
        "UPDATE event_document SET planned_end = ("
        "SELECT event.span_end FROM event"
        " WHERE event.id = event_document.event_id AND event.status = 'planned')"
    )


def downgrade() -> None:
    with op.batch_alter_table("event_document", schema=None) as batch_op:
        batch_op.drop_column("planned_end")
