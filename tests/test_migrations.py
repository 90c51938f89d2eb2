"""Alembic is the schema's only author: migrations round-trip and match the models."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.core.migrate import current_revision, downgrade, head_revision, upgrade
from app.models import metadata
from tests.conftest import DatabaseFactory


def _include(obj: object, name: str | None, type_: str, reflected: bool, _: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("event_search"))


@pytest.fixture
def blank(databases: DatabaseFactory) -> Iterator[Engine]:
    database = databases.create()
    engine = database.engine()
    yield engine
    engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(blank: Engine) -> None:
    tables = set(metadata.tables)
    with blank.connect() as conn:
        upgrade(conn)
        assert current_revision(conn) == head_revision()
        assert tables <= set(inspect(conn).get_table_names())
        downgrade(conn)
        assert current_revision(conn) is None
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        upgrade(conn)
        assert current_revision(conn) == head_revision()
        assert tables <= set(inspect(conn).get_table_names())


def test_models_and_migrations_agree(blank: Engine) -> None:
    with blank.connect() as conn:
        upgrade(conn)
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        assert compare_metadata(context, metadata) == []


def test_foreign_keys_are_enforced(blank: Engine) -> None:
    with blank.connect() as conn:
        upgrade(conn)
        orphan = text("INSERT INTO actor_alias (actor_id, alias, key) VALUES ('nobody', 'x', 'x')")
        with pytest.raises(IntegrityError):
            conn.execute(orphan)
