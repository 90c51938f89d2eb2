"""The steps every write takes (app.history.service.recorded): snapshot, change, flush, record,
new version; and the followers told of each revision, in the writer's transaction."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.actors.models import Actor
from app.actors.writes import ACTOR
from app.core.versioning import read_data_version
from app.history import service
from app.history.models import Action, Revision
from app.history.service import recorded
from tests.conftest import Database
from tests.factories import actor, dataset, load


@pytest.fixture
def session(empty_database: Database) -> Iterator[Session]:
    engine = empty_database.engine()
    load(engine, dataset(actors=[actor("china"), actor("cnsa", "agency", "china")], events=[]))
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, list[str]]]:
    """What a follower registered for the test is told: entity, action and changed fields."""
    seen: list[tuple[str, str, list[str]]] = []

    def spy(_: Session, revision: Revision) -> None:
        seen.append((revision.entity, revision.action, sorted(revision.changes)))

    monkeypatch.setattr(service, "_followers", [*service.followers(), spy])
    return seen


def revisions(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Revision)).scalar_one()


def test_a_change_is_recorded_once_with_a_new_version(session: Session, told: list[Any]) -> None:
    china = session.get(Actor, "china")
    assert china is not None
    count, version = revisions(session), read_data_version(session)
    with recorded(session, ACTOR, china, Action.update, author="ann", reason="why") as step:
        china.name = "PRC"
    assert step.revision is not None
    assert step.revision.changes == {"name": {"before": "China", "after": "PRC"}}
    assert (china.version, china.updated_by) == (2, "ann")
    assert (revisions(session), read_data_version(session)) == (count + 1, version + 1)
    assert told == [("actor", "update", ["name"])]


def test_no_change_records_nothing_and_keeps_the_version(session: Session, told: list[Any]) -> None:
    china = session.get(Actor, "china")
    assert china is not None
    count, version = revisions(session), read_data_version(session)
    with recorded(session, ACTOR, china, Action.update, author="ann", reason=None) as step:
        china.name = "China"
    assert step.revision is None
    assert (china.version, china.updated_by) == (1, "seed")
    assert (revisions(session), read_data_version(session)) == (count, version)
    assert told == []


def test_a_block_that_fails_records_nothing(session: Session, told: list[Any]) -> None:
    china = session.get(Actor, "china")
    assert china is not None
    count = revisions(session)

    def rename_then_fail() -> None:
        with recorded(session, ACTOR, china, Action.update, author="ann", reason=None):
            china.name = "PRC"
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        rename_then_fail()
    assert (revisions(session), china.version, told) == (count, 1, [])


def test_creates_and_deletes_record_the_whole_row(session: Session, told: list[Any]) -> None:
    jaxa = Actor(id="jaxa", name="JAXA", kind="agency", updated_by="ann")
    with recorded(session, ACTOR, jaxa, Action.create, author="ann", reason=None) as created:
        session.add(jaxa)
    with recorded(session, ACTOR, jaxa, Action.delete, author="ann", reason=None) as deleted:
        session.delete(jaxa)
    assert created.revision is not None
    assert deleted.revision is not None
    assert created.revision.changes["name"] == {"before": None, "after": "JAXA"}
    assert deleted.revision.changes["name"] == {"before": "JAXA", "after": None}
    assert session.get(Actor, "jaxa") is None
    fields = sorted(created.revision.changes)
    assert told == [("actor", "create", fields), ("actor", "delete", fields)]
