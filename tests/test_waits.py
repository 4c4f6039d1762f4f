"""The daemon's loops wait for their event (mail stored, letters queued, timers changed)
with a timeout; a stop cancels them. A cancel that comes in the same instant as the event
must still end the loop: `asyncio.wait_for` on Python 3.11 loses it, and `mailbot serve`
stopped just as a message was stored (SIGTERM on its 250) waited for ever. The messages
of one group commit wake the worker once."""

import asyncio
from typing import Any

from mailbot.config.addresses import resolve
from mailbot.service import Service, _wait
from tests.helpers import make_message


async def _loop(event: asyncio.Event) -> None:
    while True:
        await _wait(event, 10)


async def test_a_cancel_that_comes_with_the_event_ends_the_loop() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_loop(event))
    await asyncio.sleep(0.01)  # waiting
    event.set()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    assert done == {task} and task.cancelled()


async def test_the_wait_ends_with_the_event_or_the_timeout_and_clears_it() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    await asyncio.wait_for(_wait(event, 10), 2)  # the event, long before the timeout
    assert not event.is_set()
    started = asyncio.get_running_loop().time()
    await _wait(event, 0.05)  # nothing: the timeout, no error
    assert asyncio.get_running_loop().time() - started >= 0.05


async def test_messages_committed_together_wake_the_worker_once(service: Service) -> None:
    """A wake-up is a write to each worker process's pipe: one for a group commit."""
    recipient = resolve("sel@example.org", service.config.lists, service.config.server.separator)
    assert recipient is not None
    committed: list[int] = []  # messages in each commit
    woken: list[int] = []  # messages committed so far, at each wake-up
    service.wake_worker = lambda: woken.append(sum(committed))
    store = service.intake.write

    async def counted(arrivals: list[Any]) -> None:
        await store(arrivals)
        committed.append(len(arrivals))

    service.intake.write = counted
    await asyncio.gather(*(service.accept(make_message(message_id=f"<w{i}@example.com>"),
                                          "marie@example.com", [("sel@example.org", recipient)])
                           for i in range(10)))
    await asyncio.sleep(0)
    assert sum(committed) == 10 and len(committed) < 10  # commits were shared
    assert len(woken) == len(committed)  # one wake-up a commit, not one a message
    assert woken[-1] == 10  # the last once everything was committed
