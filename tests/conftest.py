"""Test databases: every API test runs on SQLite and on PostgreSQL through one parameter.

PostgreSQL is found at TEST_DATABASE_URL (default: the local server). Without it the
PostgreSQL leg skips with a message, unless REQUIRE_POSTGRES=1, when it fails instead.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.auth.service import create_token
from app.core.config import Settings
from app.core.db import build_engine
from app.main import create_app, prepare_database
from tests.factories import load
from tests.mini import MINI

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_dsn() -> str:
    url = make_url(PG_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_reason() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        with psycopg.connect(_pg_admin_dsn(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        name = exc.__class__.__name__
        return f"PostgreSQL not reachable at {PG_URL} ({name}); set TEST_DATABASE_URL"


_PG_UNAVAILABLE = _postgres_reason()


@dataclass
class Database:
    """One throwaway database and how to reach it."""

    backend: str
    url: str

    def settings(self, **overrides: object) -> Settings:
        # No .env: a developer's local file must not change what the tests run against.
        return Settings(_env_file=None, database_url=self.url, **overrides)  # type: ignore[call-arg]

    def engine(self) -> Engine:
        return build_engine(self.settings())


class DatabaseFactory:
    """Creates databases for one backend and drops them all at the end."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.created: list[str] = []

    def create(self, template: "Database | None" = None) -> Database:
        name = f"timeline_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            path = self.tmp / f"{name}.db"
            if template is not None:
                shutil.copyfile(make_url(template.url).database or "", path)
            return Database("sqlite", f"sqlite:///{path}")
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
            clause = f' TEMPLATE "{make_url(template.url).database}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return Database("postgresql", make_url(PG_URL).set(database=name).render_as_string(False))

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and _PG_UNAVAILABLE:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {_PG_UNAVAILABLE}")
        pytest.skip(_PG_UNAVAILABLE)
    return name


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def migrated_template(databases: DatabaseFactory) -> Database:
    """An empty database at the latest migration, copied for tests that write."""
    database = databases.create()
    engine = database.engine()
    prepare_database(engine, database.settings(), migrate=True, seed=False)
    engine.dispose()
    return database


@pytest.fixture(scope="session")
def seeded_database(databases: DatabaseFactory, migrated_template: Database) -> Database:
    """The curated dataset, loaded once per backend; tests that use it only read."""
    database = databases.create(template=migrated_template)
    engine = database.engine()
    prepare_database(engine, database.settings(), migrate=False, seed=True)
    engine.dispose()
    return database


@pytest.fixture
def empty_database(databases: DatabaseFactory, migrated_template: Database) -> Database:
    """A fresh, migrated, empty database of the test's own."""
    return databases.create(template=migrated_template)


@pytest.fixture(scope="session")
def client(seeded_database: Database) -> Iterator[TestClient]:
    """A read-only client on the seeded database."""
    app = create_app(seeded_database.settings(auto_migrate=False, auto_seed=False))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def mini(databases: DatabaseFactory, migrated_template: Database) -> Iterator[TestClient]:
    """A read-only client on the small dataset of tests/mini.py."""
    database = databases.create(template=migrated_template)
    app = create_app(database.settings(auto_migrate=False, auto_seed=False))
    load(app.state.database.engine, MINI)
    with TestClient(app) as client:
        yield client


@dataclass
class Editing:
    """A client on a database of its own (the small dataset), and an editor token for it."""

    client: TestClient
    token: str
    database: Database

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def editing(empty_database: Database) -> Iterator[Editing]:
    app = create_app(empty_database.settings(auto_migrate=False, auto_seed=False))
    load(app.state.database.engine, MINI)
    with Session(app.state.database.engine) as session:
        token = create_token(session, "alice", ["editor"])
    with TestClient(app) as client:
        yield Editing(client, token, empty_database)
    app.state.database.engine.dispose()
