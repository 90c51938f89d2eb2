"""Rows derived from events follow every write: writes of actors, programs and sources only
record a revision, which the history hands to events' follower, whoever the writer is."""

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.actors.models import Actor
from app.actors.writes import ActorUpdate, update_actor
from app.events import derived
from app.events.writes import rebuild_derived
from app.history.service import followers
from app.programs.models import Program
from app.programs.writes import ProgramUpdate, update_program
from app.sources.models import Source
from app.sources.writes import SourceUpdate, update_source
from tests.conftest import Database
from tests.factories import actor, dataset, event, load
from tests.mini import MINI

DERIVED = {
    "event_document": "SELECT event_id, body, planned_end FROM event_document",
    "event_reach": "SELECT actor_id, year, start_date, event_id FROM event_reach",
}


def derived_rows(session: Session) -> dict[str, list[Any]]:
    return {
        table: sorted(tuple(row) for row in session.execute(text(query)))
        for table, query in DERIVED.items()
    }


def assert_derived_rows_are_fresh(engine: Engine) -> dict[str, list[Any]]:
    """The derived rows as the writes left them equal the same rows rebuilt from scratch."""
    with Session(engine) as session:
        kept = derived_rows(session)
        rebuild_derived(session)
        assert kept == derived_rows(session)
        session.rollback()
    return kept


@pytest.mark.parametrize(
    "module", ["app.main", "app.cli", "seed.loader", "app.models", "app.events.writes"]
)
def test_every_way_to_write_has_the_follower_registered(module: str) -> None:
    """The app, the CLI, the seed loader, migrations and tests (app.models) each register it
    on import, in a fresh interpreter."""
    check = (
        f"import {module}\n"
        "from app.events import derived\n"
        "from app.history.service import followers\n"
        "assert followers() == (derived.follow,), followers()\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=120)


def test_the_follower_is_registered_once() -> None:
    assert followers().count(derived.follow) == 1


WRITES: dict[str, Callable[[Session], Any]] = {
    "rename actor": lambda s: update_actor(
        s, _get(s, Actor, "china"), ActorUpdate(name="PRC"), author="t", reason=None
    ),
    "move actor": lambda s: update_actor(
        s, _get(s, Actor, "roscosmos"), ActorUpdate(parent_id="china"), author="t", reason=None
    ),
    "rename program": lambda s: update_program(
        s, _get(s, Program, "ilrs"), ProgramUpdate(name="L"), author="t", reason=None
    ),
    "retitle source": lambda s: update_source(
        s, _get(s, Source, "s2"), SourceUpdate(title="T"), author="t", reason=None
    ),
}


def _get(session: Session, model: type[Any], row_id: str) -> Any:
    row = session.get(model, row_id)
    assert row is not None
    return row


@pytest.mark.parametrize("write", list(WRITES))
def test_a_service_write_outside_the_api_updates_what_events_show(
    empty_database: Database, write: str
) -> None:
    engine = empty_database.engine()
    load(engine, MINI)
    before = assert_derived_rows_are_fresh(engine)
    with Session(engine) as session:
        WRITES[write](session)
        session.commit()
    after = assert_derived_rows_are_fresh(engine)
    changed = "event_reach" if write == "move actor" else "event_document"
    assert after[changed] != before[changed]
    engine.dispose()


def test_a_seed_load_renaming_and_moving_actors_updates_what_events_show(
    empty_database: Database,
) -> None:
    engine = empty_database.engine()
    load(engine, MINI)
    before = assert_derived_rows_are_fresh(engine)
    report = load(
        engine,
        dataset(
            actors=[actor("china", name="PRC"), actor("roscosmos", "agency", "china")],
            events=[event("e2030", 2030, [("china", "partner")])],
        ),
    )
    assert report.updated == ["actor china", "actor roscosmos", "source s1", "event e2030"]
    after = assert_derived_rows_are_fresh(engine)
    assert after["event_document"] != before["event_document"]
    assert after["event_reach"] != before["event_reach"]
    engine.dispose()
