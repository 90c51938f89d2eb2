"""A small dataset of the tests' own, covering every filter's edge cases (SPEC §3)."""

from tests.factories import actor, citation, dataset, event, program, source

MINI = dataset(
    actors=[
        actor("russia", aliases=["Russian Federation"]),
        actor("roscosmos", "agency", "russia", aliases=["Russian space agency"]),
        actor("rogozin", "person", "roscosmos"),
        actor("china"),
        actor("cnsa", "agency", "china"),
        actor("usa", aliases=["U.S.", "US"]),
        actor("nasa", "agency", "usa"),
    ],
    programs=[program("iss"), program("ilrs", aliases=["ISLS"]), program("artemis")],
    sources=[
        source("s1", "2021-03", document={"file": "001.txt", "sha256": "0" * 64}),
        source("s2", "2022-04"),
    ],
    events=[
        event(
            "e1998",
            "1998-11-20",
            [("russia", "partner"), ("usa", "partner")],
            programs=["iss"],
            kind="launch",
            title="Station launched",
        ),
        event(
            "e2020",
            "2020-10-13",
            [("usa", "signatory"), ("nasa", "initiator"), ("russia", "declined")],
            programs=["artemis"],
        ),
        event(
            "e2021",
            "2021-03-09",
            [
                ("roscosmos", "signatory"),
                ("cnsa", "signatory"),
                ("russia", "partner"),
                ("china", "partner"),
            ],
            programs=["ilrs"],
            summary="A memorandum on a lunar station.",
        ),
        event(
            "e2021m",
            "2021-06",
            [("rogozin", "speaker")],
            kind="statement",
            citations=[citation("s2", "Rogozin spoke about orbital plans.")],
        ),
        event(
            "e2024",
            2024,
            [("russia", "withdrawing"), ("roscosmos", "withdrawing")],
            end=2025,
            status="planned",
            kind="withdrawal",
            programs=["iss"],
            citations=[
                citation("s1", "Leave by 2025.", claimed_date=2025, claimed_qualifier="by"),
                citation("s2", "Work until 2024.", claimed_date=2024),
            ],
        ),
        event(
            "e2030",
            2030,
            [("russia", "partner"), ("china", "partner")],
            qualifier="by",
            status="planned",
            kind="mission",
            programs=["ilrs"],
        ),
        event("e2030s", "2030s", [("nasa", "subject")], status="planned", kind="milestone"),
    ],
)
ALL = ["e1998", "e2020", "e2021", "e2021m", "e2024", "e2030", "e2030s"]
