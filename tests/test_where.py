"""What `kill -USR1` writes to a daemon's log: each task by the coroutines it is in and the
future it waits on, each thread by its stack."""

import asyncio
import contextlib
import threading

from mailbot.core.where import awaiting, where


async def _inner(event: asyncio.Event) -> None:
    await event.wait()


async def _outer(event: asyncio.Event) -> None:
    await _inner(event)


async def _look() -> str:
    event, parked = asyncio.Event(), threading.Event()
    task = asyncio.create_task(_outer(event), name="napping")
    thread = threading.Thread(target=parked.wait, name="db_parked")
    thread.start()
    await asyncio.sleep(0.01)
    try:
        return where(asyncio.get_running_loop())
    finally:
        event.set()
        parked.set()
        await task
        thread.join()


def test_tasks_by_their_coroutines_and_threads_by_their_stacks() -> None:
    told = asyncio.run(_look())
    napping = told.split("- task napping\n", 1)[1].split("\n- ", 1)[0]
    assert [line.split(" in ")[-1] for line in napping.splitlines()[:3]] == [
        "_outer", "_inner", "wait"]
    assert "    on <Future pending" in napping
    assert "- task Task-" in told  # the one asking (asyncio.run's)
    parked = told.split("- thread db_parked\n", 1)[1]
    assert "parked.wait" in parked.split("\n- ", 1)[0] or "in wait" in parked


def test_a_finished_coroutine_waits_for_nothing() -> None:
    async def done() -> int:
        return 1

    coroutine = done()
    with contextlib.suppress(StopIteration):
        coroutine.send(None)
    assert awaiting(coroutine) == []
