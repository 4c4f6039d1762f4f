"""The delivery-result recorder: each caller waits for its own results, callers that come
while a write is under way share the next one, and a failing write is tried again."""

import asyncio

import pytest

from mailbot.outbound.recorder import Recorder
from mailbot.storage.deliveries import Result


class Database:
    def __init__(self, failures: int = 0) -> None:
        self.writes: list[list[int]] = []
        self.failures = failures
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, results: list[Result]) -> None:
        await self.gate.wait()
        await asyncio.sleep(0.01)
        if self.failures:
            self.failures -= 1
            raise OSError("database is away")
        self.writes.append([r.delivery_id for r in results])


def results(*ids: int) -> list[Result]:
    return [Result(i, True) for i in ids]


async def test_callers_during_a_write_share_the_next_one() -> None:
    database = Database()
    recorder = Recorder(database.write)
    first = asyncio.create_task(recorder.record(results(1)))
    await asyncio.sleep(0)  # the first write has started
    others = [asyncio.create_task(recorder.record(results(n, n + 100))) for n in (2, 3, 4)]
    await asyncio.gather(first, *others)
    assert database.writes == [[1], [2, 102, 3, 103, 4, 104]]


async def test_a_caller_returns_only_once_its_results_are_written() -> None:
    database = Database()
    database.gate.clear()
    recorder = Recorder(database.write)
    waiting = asyncio.create_task(recorder.record(results(7)))
    await asyncio.sleep(0.05)
    assert not waiting.done() and database.writes == []
    database.gate.set()
    await asyncio.wait_for(waiting, 2)
    assert database.writes == [[7]]


async def test_a_failing_write_is_tried_again_and_nothing_is_lost(
        caplog: pytest.LogCaptureFixture) -> None:
    database = Database(failures=2)
    recorder = Recorder(database.write)
    await asyncio.wait_for(recorder.record(results(1, 2)), 5)
    assert database.writes == [[1, 2]]
    assert caplog.text.count("could not record 2 delivery results (database is away)") == 2


async def test_a_cancelled_caller_still_gets_its_results_written() -> None:
    database = Database()
    database.gate.clear()
    recorder = Recorder(database.write)
    waiting = asyncio.create_task(recorder.record(results(5)))
    await asyncio.sleep(0.02)
    waiting.cancel()
    await asyncio.sleep(0.02)
    database.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert database.writes == [[5]]


async def test_with_linger_a_lone_result_goes_at_once_and_a_stream_shares_commits() -> None:
    """After a quiet moment a write is not held back (one reply to a command); right
    after another write the writer waits `linger` so that more results share it. (The
    linger is long so that a busy machine cannot blur the difference: a write here takes
    10 ms.)"""
    database = Database()
    recorder = Recorder(database.write, linger=1.5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await recorder.record(results(1))
    assert loop.time() - began < 1.2  # not held back
    began = loop.time()
    second = asyncio.create_task(recorder.record(results(2)))
    await asyncio.sleep(0.1)  # another arrives while the writer lingers
    third = asyncio.create_task(recorder.record(results(3)))
    await asyncio.gather(second, third)
    assert loop.time() - began >= 1.5
    assert database.writes == [[1], [2, 3]]
    await asyncio.sleep(1.6)  # quiet again
    began = loop.time()
    await recorder.record(results(4))
    assert loop.time() - began < 1.2
