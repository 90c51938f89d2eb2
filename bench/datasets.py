"""Build or reuse the benchmark databases, loaded through the app's own migrations.

SQLite: `bench/data/bench_<size>_s<seed>.db` with a `.json` beside it. PostgreSQL: a database
`bench_<size>_s<seed>` whose comment holds the same JSON. Each is built under a temporary name
and renamed when complete, so a present database is a finished one; it is rebuilt when the
generator or the schema's head revision changed since it was built.

Only building imports the app (its schema, migrations and derived rows), inside the functions
that build: reusing a built dataset does not, so `python -m bench compare` runs while the
app's internals are being changed.
"""

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from alembic.script import ScriptDirectory
from psycopg import sql
from psycopg.types.json import Json
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from bench.generate import GENERATOR_VERSION, TABLE_COLUMNS, Generator, Picks, Rows

DATA_DIR = Path(__file__).resolve().parent / "data"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
COUNTED = ("actor", "program", "source", "event", "event_actor", "event_program", "citation")


@dataclass
class Dataset:
    backend: str
    size: int
    seed: int
    url: str  # the app's DATABASE_URL
    picks: Picks
    rows: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    reused: bool = False
    sqlite_path: Path | None = None


def name_of(size: int, seed: int) -> str:
    return f"bench_{size}_s{seed}"


def _stamp() -> dict[str, Any]:
    """What a built dataset depends on: the generator and the schema's head revision."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    return {"generator": GENERATOR_VERSION, "revision": head}


def _from_meta(meta: dict[str, Any], **kwargs: Any) -> Dataset:
    picks = Picks(meta["picks"]["actor"], meta["picks"]["year"])
    picks.mix = [(a, y) for a, y in meta["picks"]["mix"]]
    return Dataset(picks=picks, rows=meta["rows"], build_seconds=meta["build_seconds"], **kwargs)


def ensure(
    backend: str, size: int, seed: int, *, pg_url: str = DEFAULT_PG_URL, rebuild: bool = False
) -> Dataset:
    """The dataset for this size and seed, generated and loaded only if not cached."""
    if backend == "sqlite":
        return _ensure_sqlite(size, seed, rebuild)
    return _ensure_postgres(size, seed, pg_url, rebuild)


def _load(
    engine: Engine,
    generator: Generator,
    write: Any,
    indexes: list[tuple[str, str]],
    execute: Any,
) -> Picks:
    """Write every table in dependency order, recreate the indexes, then build the search,
    year and document rows (app.events.writes.rebuild_derived, as the app does) and bump the data
    version."""
    from app.core.versioning import bump_data_version
    from app.events.writes import rebuild_derived

    started = time.perf_counter()
    for rows in (generator.actor_rows(), generator.program_rows(), generator.source_rows()):
        write(rows)
    done = 0
    for rows in generator.events():
        write(rows)
        done += len(rows["event"])
        print(f"  {done:>9,} events", end="\r", flush=True)
    print(f"\n  rows written in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for _, create in indexes:
        execute(create)
    print(f"  {len(indexes)} indexes recreated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with Session(engine) as session:  # reads events by id: after the indexes are back
        rebuild_derived(session)
        bump_data_version(session)
        session.commit()
    print(f"  search, year and document rows built in {time.perf_counter() - started:.1f} s")
    return generator.picks()


LOADED = (*COUNTED, "actor_alias", "event_search")


def _secondary_indexes(conn: Any, dialect: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the migrations' non-unique indexes on the loaded tables.

    Dropped before the bulk load and recreated from these very statements afterwards, so the
    schema ends exactly as the migrations made it (rows inserted in random key order into
    existing indexes make a 1M load several times slower).
    """
    tables = ", ".join(f"'{t}'" for t in LOADED)
    if dialect == "sqlite":
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({tables})"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            f"AND indexdef NOT LIKE 'CREATE UNIQUE%' AND tablename IN ({tables})"
        )
    return [(name, create) for name, create in conn.execute(query).fetchall()]


def _migrated(url: str) -> Engine:
    """An engine on the empty database at `url`, migrated as the app migrates (no statement
    timeout: building indexes at 1M takes longer than a request may)."""
    from app.core.config import Settings
    from app.core.db import build_engine
    from app.main import prepare_database

    settings = Settings(database_url=url, auto_seed=False, db_statement_timeout_ms=0)
    engine = build_engine(settings)
    prepare_database(engine, settings, migrate=True, seed=False)
    return engine


def _tables() -> Any:
    """The app's tables by name (SQLAlchemy's `metadata.tables`)."""
    from app.models import metadata

    return metadata.tables


def _count(engine: Engine) -> dict[str, int]:
    tables = _tables()
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(tables[name])).scalar_one()
            for name in COUNTED
        }


def _ensure_sqlite(size: int, seed: int, rebuild: bool) -> Dataset:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    name = name_of(size, seed)
    path, meta_path = DATA_DIR / f"{name}.db", DATA_DIR / f"{name}.json"
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in _stamp()} == _stamp():
            kw = {"backend": "sqlite", "size": size, "seed": seed, "sqlite_path": path}
            return _from_meta(meta, url=f"sqlite:///{path}", reused=True, **kw)
    print(f"generating {size:,} events (seed {seed}) into SQLite {path.name}")
    started = time.perf_counter()
    tmp = DATA_DIR / f"{name}.building.db"
    for leftover in DATA_DIR.glob(f"{name}.*"):
        leftover.unlink()
    engine = _migrated(f"sqlite:///{tmp}")
    tables = _tables()
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-2000000")
        indexes = _secondary_indexes(raw, "sqlite")
        for index, _ in indexes:
            raw.execute(f'DROP INDEX "{index}"')

        def write(rows: Rows) -> None:
            for table, batch in rows.items():
                if batch:
                    columns = TABLE_COLUMNS[table]
                    conn.execute(
                        insert(tables[table]), [dict(zip(columns, r, strict=True)) for r in batch]
                    )
            conn.commit()

        picks = _load(engine, Generator(size, seed), write, indexes, raw.execute)
        conn.execute(text("ANALYZE"))
        conn.commit()
        rows = _count(engine)
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    Path(f"{tmp}.lock").unlink(missing_ok=True)
    os.replace(tmp, path)
    seconds = round(time.perf_counter() - started, 1)
    meta = {**_stamp(), "picks": asdict(picks), "rows": rows, "build_seconds": seconds}
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f"  built in {seconds} s")
    kw = {"backend": "sqlite", "size": size, "seed": seed, "sqlite_path": path}
    return _from_meta(meta, url=f"sqlite:///{path}", **kw)


def _pg(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


def _comment(admin: psycopg.Connection[Any], name: str) -> dict[str, Any] | None:
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def _ensure_postgres(size: int, seed: int, pg_url: str, rebuild: bool) -> Dataset:
    name = name_of(size, seed)
    kw = {"backend": "postgresql", "size": size, "seed": seed, "url": _pg(pg_url, name)}
    with psycopg.connect(_pg(pg_url, "postgres"), autocommit=True) as admin:
        meta = _comment(admin, name)
        if meta and not rebuild and {k: meta.get(k) for k in _stamp()} == _stamp():
            return _from_meta(meta, reused=True, **kw)
        print(f"generating {size:,} events (seed {seed}) into PostgreSQL database {name}")
        started = time.perf_counter()
        tmp = f"{name}_building"
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(tmp))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(tmp)))
        engine = _migrated(_pg(pg_url, tmp))
        with psycopg.connect(_pg(pg_url, tmp)) as conn:
            indexes = _secondary_indexes(conn, "postgresql")
            for index, _ in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.commit()

            def write(rows: Rows) -> None:
                for table, batch in rows.items():
                    columns = TABLE_COLUMNS[table]
                    json_at = columns.index("cites") if table == "source" else -1
                    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                    )
                    with conn.cursor().copy(statement) as copy:
                        for row in batch:
                            if json_at >= 0:
                                row = (*row[:json_at], Json(row[json_at]), *row[json_at + 1 :])
                            copy.write_row(row)
                conn.commit()

            def execute(statement: str) -> None:
                conn.execute(statement.encode())
                conn.commit()

            picks = _load(engine, Generator(size, seed), write, indexes, execute)
            for table in ("citation", "actor_alias"):
                conn.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({t}, 'id'), max(id)) FROM {i}"
                    ).format(t=sql.Literal(table), i=sql.Identifier(table))
                )
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        rows = _count(engine)
        engine.dispose()
        seconds = round(time.perf_counter() - started, 1)
        meta = {**_stamp(), "picks": asdict(picks), "rows": rows, "build_seconds": seconds}
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(tmp), sql.Literal(json.dumps(meta))
            )
        )
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(tmp), sql.Identifier(name)
            )
        )
    print(f"  built in {seconds} s")
    return _from_meta(meta, **kw)
