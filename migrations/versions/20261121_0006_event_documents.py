"""stored event documents

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 14:10:00

Each event's JSON as the list shows it, so a page is read rather than assembled. The app
builds the documents of existing events when it next migrates (`app.events.documents`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_document",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_document_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_document")),
    )


def downgrade() -> None:
    op.drop_table("event_document")
