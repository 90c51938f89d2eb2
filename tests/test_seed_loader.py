"""The seed loader: idempotent, and it never overwrites what editors changed."""

from sqlalchemy import func, select, update
from sqlmodel import Session

from app.actors.models import Actor, ActorAlias
from app.events.models import Citation, Event
from tests.conftest import Database
from tests.factories import actor, citation, dataset, event, load

BASE = {
    "actors": [actor("russia"), actor("roscosmos", "agency", "russia", aliases=["RKA"])],
    "events": [event("e1", "2021-03-09", [("roscosmos", "signatory")])],
}


def test_second_load_changes_nothing(empty_database: Database) -> None:
    engine = empty_database.engine()
    first = load(engine, dataset(**BASE))
    second = load(engine, dataset(**BASE))
    assert (len(first.added), len(second.added), len(second.updated)) == (4, 0, 0)
    assert second.unchanged == 4
    with Session(engine) as session:
        assert session.get(Event, "e1").version == 1  # type: ignore[union-attr]


def test_changed_seed_record_updates_only_that_record(empty_database: Database) -> None:
    engine = empty_database.engine()
    load(engine, dataset(**BASE))
    changed = {**BASE, "actors": [actor("russia", name="Russian Federation"), BASE["actors"][1]]}
    report = load(engine, dataset(**changed))
    assert report.updated == ["actor russia"]
    with Session(engine) as session:
        russia = session.get(Actor, "russia")
        assert (russia.name, russia.version, russia.updated_by) == ("Russian Federation", 2, "seed")  # type: ignore[union-attr]


def test_editor_changes_are_kept_unless_forced(empty_database: Database) -> None:
    engine = empty_database.engine()
    load(engine, dataset(**BASE))
    with Session(engine) as session:  # an editor renames the actor through the API
        session.execute(
            update(Actor)
            .where(Actor.id == "russia")
            .values(name="Edited", version=2, updated_by="editor")
        )
        session.commit()
    changed = {**BASE, "actors": [actor("russia", name="From seed"), BASE["actors"][1]]}
    report = load(engine, dataset(**changed))
    assert (report.updated, report.kept) == ([], ["actor russia"])
    with Session(engine) as session:
        assert session.get(Actor, "russia").name == "Edited"  # type: ignore[union-attr]
    forced = load(engine, dataset(**changed), force=True)
    assert "actor russia" in forced.updated
    with Session(engine) as session:
        assert session.get(Actor, "russia").name == "From seed"  # type: ignore[union-attr]


def test_records_editors_deleted_stay_deleted(empty_database: Database) -> None:
    engine = empty_database.engine()
    load(engine, dataset(**BASE))
    with Session(engine) as session:
        session.delete(session.get(Event, "e1"))
        session.commit()
    report = load(engine, dataset(**BASE))
    assert (report.added, report.kept) == ([], ["event e1"])
    with Session(engine) as session:
        assert session.get(Event, "e1") is None


def test_new_seed_records_are_added_beside_edited_ones(empty_database: Database) -> None:
    engine = empty_database.engine()
    load(engine, dataset(**BASE))
    more = {
        **BASE,
        "events": [
            *BASE["events"],
            event(
                "e2",
                2024,
                [("russia", "withdrawing")],
                end=2025,
                citations=[citation("s1", "Leave by 2025.", claimed_date=2025)],
            ),
        ],
    }
    report = load(engine, dataset(**more))
    assert (report.added, report.updated) == (["event e2"], [])


def test_event_update_replaces_links_and_citations(empty_database: Database) -> None:
    engine = empty_database.engine()
    load(engine, dataset(**BASE))
    revised = {
        **BASE,
        "events": [
            event(
                "e1",
                "2021-03-09",
                [("russia", "partner"), ("roscosmos", "signatory")],
                citations=[citation("s1", "One."), citation("s1", "Two.")],
            )
        ],
    }
    load(engine, dataset(**revised))
    with Session(engine) as session:
        quotes = (
            session.execute(
                select(Citation.quote).where(Citation.event_id == "e1").order_by(Citation.position)
            )
            .scalars()
            .all()
        )
        aliases = session.execute(select(func.count()).select_from(ActorAlias)).scalar_one()
    assert (quotes, aliases) == (["One.", "Two."], 1)
