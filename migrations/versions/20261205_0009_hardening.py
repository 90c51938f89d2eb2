"""hardening: bytewise ids, one table of unique names, a stored cursor key, replayed ETags

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:30:00

- On PostgreSQL the id and key columns get the "C" collation, so text sorts byte by byte as
  on SQLite (whose default, BINARY, already does): lists and cursor walks agree.
- `name_key` holds every id, name and alias of actors and of programs in its lookup form,
  unique per scope: names cannot be shared, whatever runs concurrently. It is filled from
  the existing records, ids first, then names, then aliases; a name two records already
  shared stays with the first and is reported.
- `app_secret` keeps the cursor signing key the service makes on first start.
- `idempotency_key.etag`: a replayed answer carries the first one's ETag.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# (table, column, length): ids and the columns that refer to them.
BYTEWISE = [
    ("actor", "id", 80),
    ("actor", "parent_id", 80),
    ("program", "id", 80),
    ("source", "id", 120),
    ("event", "id", 120),
    ("actor_alias", "actor_id", None),
    ("program_alias", "program_id", None),
    ("event_actor", "event_id", None),
    ("event_actor", "actor_id", None),
    ("event_program", "event_id", None),
    ("event_program", "program_id", None),
    ("event_year", "event_id", 120),
    ("event_reach", "actor_id", 120),
    ("event_reach", "event_id", 120),
    ("event_document", "event_id", 120),
    ("citation", "event_id", None),
    ("citation", "source_id", None),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _text(length: int | None, bytewise: bool) -> sa.String:
    return sa.String(length, collation="C" if bytewise and _postgresql() else None)


def _lookup_key(name: str) -> str:
    # app.core.names.lookup_key as of this revision: case-folded, whitespace collapsed.
    return " ".join(name.casefold().split())


def upgrade() -> None:
    if _postgresql():
        for table, column, length in BYTEWISE:
            op.alter_column(
                table, column, type_=_text(length, True), existing_type=sa.String(length)
            )

    op.create_table(
        "app_secret",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secret")),
    )

    op.create_table(
        "name_key",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", _text(400, True), nullable=False),
        sa.Column("actor_id", _text(None, True), nullable=True),
        sa.Column("program_id", _text(None, True), nullable=True),
        sa.CheckConstraint(
            "(scope = 'actor' AND actor_id IS NOT NULL AND program_id IS NULL) OR "
            "(scope = 'program' AND program_id IS NOT NULL AND actor_id IS NULL)",
            name=op.f("ck_name_key_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_name_key_actor_id_actor"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_name_key_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_name_key")),
    )
    with op.batch_alter_table("name_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_name_key_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_name_key_program_id"), ["program_id"], unique=False)
    _fill_names("actor", "actor_alias")
    _fill_names("program", "program_alias")

    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("etag", sa.String(length=100), nullable=True))


def _fill_names(scope: str, aliases: str) -> None:
    conn = op.get_bind()
    owner = f"{scope}_id"
    rows = [
        *conn.execute(sa.text(f"SELECT id, id FROM {scope} ORDER BY id")),
        *conn.execute(sa.text(f"SELECT id, name FROM {scope} ORDER BY id")),
        *conn.execute(sa.text(f"SELECT {owner}, alias FROM {aliases} ORDER BY id")),
    ]
    holders: dict[str, str] = {}
    for owner_id, name in rows:
        key = _lookup_key(name)
        if not key:
            continue
        holder = holders.setdefault(key, owner_id)
        if holder != owner_id:
            log.warning("%s '%s' and '%s' share the name '%s'", scope, holder, owner_id, name)
    table = sa.table("name_key", sa.column("scope"), sa.column("key"), sa.column(owner, sa.String))
    if holders:
        conn.execute(
            table.insert(),
            [{"scope": scope, "key": key, owner: holder} for key, holder in holders.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_column("etag")
    with op.batch_alter_table("name_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_name_key_program_id"))
        batch_op.drop_index(batch_op.f("ix_name_key_actor_id"))
    op.drop_table("name_key")
    op.drop_table("app_secret")
    if _postgresql():
        for table, column, length in BYTEWISE:
            op.alter_column(
                table, column, type_=sa.String(length), existing_type=_text(length, True)
            )
