"""SharedReads: requests arriving together share one read of the data version, and none is
answered by a read sent before it arrived."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from app.core.database import SharedReads, VersionUnavailable

T = TypeVar("T")


class Database:
    """A version counter whose reads wait until the test lets them answer."""

    def __init__(self) -> None:
        self.version = 1
        self.reads = 0
        self.gates: list[asyncio.Event] = []
        self.fail = False

    async def query(self) -> int:
        self.reads += 1
        gate = asyncio.Event()
        self.gates.append(gate)
        seen = self.version  # the snapshot is taken when the read is sent
        await gate.wait()
        if self.fail:
            raise OSError("server closed the connection")
        return seen

    async def answer(self, index: int) -> None:
        while len(self.gates) <= index:
            await asyncio.sleep(0)
        self.gates[index].set()


def run(test: Callable[[SharedReads, Database], Awaitable[T]]) -> T:
    async def main() -> T:
        database = Database()
        return await test(SharedReads(asyncio.get_running_loop(), database.query), database)

    return asyncio.run(main())


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_requests_arriving_during_a_read_share_the_next_one() -> None:
    async def scenario(reads: SharedReads, db: Database) -> tuple[list[int], int]:
        first = asyncio.create_task(reads.read())
        await _settle()
        db.version = 2  # a write commits after the first read was sent
        later = [asyncio.create_task(reads.read()) for _ in range(5)]
        await _settle()
        await db.answer(0)
        await db.answer(1)
        return [await first, *[await t for t in later]], db.reads

    values, queries = run(scenario)
    # The five that arrived after the write see it, through one read between them.
    assert (values, queries) == ([1, 2, 2, 2, 2, 2], 2)


def test_a_lone_request_reads_at_once() -> None:
    async def scenario(reads: SharedReads, db: Database) -> list[int]:
        values = []
        for version in (7, 8, 9):
            db.version = version
            task = asyncio.create_task(reads.read())
            await db.answer(len(db.gates))
            values.append(await task)
        return values

    assert run(scenario) == [7, 8, 9]


def test_a_failed_read_fails_everyone_who_waited_for_it() -> None:
    async def scenario(reads: SharedReads, db: Database) -> list[type[BaseException]]:
        first = asyncio.create_task(reads.read())
        await _settle()
        db.fail = True
        waiting = [asyncio.create_task(reads.read()) for _ in range(3)]
        await _settle()
        await db.answer(0)
        await db.answer(1)
        results = await asyncio.gather(first, *waiting, return_exceptions=True)
        return [type(r) for r in results if isinstance(r, BaseException)]

    assert run(scenario) == [OSError, OSError, VersionUnavailable, VersionUnavailable]


def test_a_cancelled_leader_leaves_no_one_waiting_forever() -> None:
    async def scenario(reads: SharedReads, db: Database) -> int:
        busy = asyncio.create_task(reads.read())
        await _settle()
        leader = asyncio.create_task(reads.read())  # waits for `busy` to finish
        await _settle()
        follower = asyncio.create_task(reads.read())
        await _settle()
        leader.cancel()
        await _settle()
        with pytest.raises(VersionUnavailable):
            await asyncio.wait_for(follower, 1)
        await db.answer(0)
        await busy
        db.version = 5
        after = asyncio.create_task(reads.read())  # a fresh read, not a stale group
        await db.answer(1)
        return await after

    assert run(scenario) == 5
