"""Group commit (storage/grouping.py): callers share transactions, and only theirs fail."""

import asyncio

import pytest

from mailbot.storage.grouping import GroupCommit


class Writes:
    def __init__(self, refuse: str = "") -> None:
        self.batches: list[list[str]] = []
        self.refuse = refuse

    async def __call__(self, items: list[str]) -> None:
        await asyncio.sleep(0.01)  # a commit takes a while: others arrive meanwhile
        if self.refuse and self.refuse in items:
            raise OSError(f"cannot store {self.refuse}")
        self.batches.append(items)


async def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    writes = Writes()
    group = GroupCommit(writes)
    await asyncio.gather(*(group.submit(f"m{i}") for i in range(10)))
    assert writes.batches == [[f"m{i}" for i in range(10)]]  # one write for all ten


async def test_a_caller_returns_only_once_its_item_is_written() -> None:
    writes = Writes()
    group = GroupCommit(writes)
    first = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0)
    second = asyncio.create_task(group.submit("b"))
    await first
    assert writes.batches == [["a"]] and not second.done()
    await second
    assert writes.batches == [["a"], ["b"]]


async def test_pending_while_items_wait_or_are_written_and_not_after() -> None:
    group = GroupCommit(Writes())
    assert not group.pending()
    task = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0)
    assert group.pending()  # being written
    await task
    await asyncio.sleep(0)
    assert not group.pending()


async def test_settled_once_what_was_submitted_is_written() -> None:
    """What a stop waits for before it closes the connection the writes go through."""
    writes = Writes()
    group = GroupCommit(writes)
    await group.settled()  # nothing under way: at once
    callers = [asyncio.create_task(group.submit(f"m{i}")) for i in range(3)]
    await asyncio.sleep(0)
    late = asyncio.create_task(group.submit("late"))  # arrives during the first write
    await asyncio.sleep(0)
    await group.settled()
    assert writes.batches == [["m0", "m1", "m2"], ["late"]] and not group.pending()
    await asyncio.gather(*callers, late)


async def test_a_bad_item_fails_alone() -> None:
    writes = Writes(refuse="bad")
    group = GroupCommit(writes)
    results = await asyncio.gather(group.submit("first"), group.submit("good"),
                                   group.submit("bad"), group.submit("also good"),
                                   return_exceptions=True)
    assert results[:2] == [None, None] and results[3] is None
    assert isinstance(results[2], OSError) and "bad" in str(results[2])
    assert sorted(item for batch in writes.batches for item in batch) == \
        ["also good", "first", "good"]


async def test_a_caller_that_goes_away_does_not_stop_the_others() -> None:
    writes = Writes()
    group = GroupCommit(writes)
    first = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group.submit("b"))
    stays = asyncio.create_task(group.submit("c"))
    await asyncio.sleep(0)
    gone.cancel()
    await first
    await stays
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert writes.batches == [["a"], ["b", "c"]]  # what was handed over is still written
