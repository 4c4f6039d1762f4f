"""Group commit: writes that arrive while one is under way share the next transaction.

Twenty SMTP sessions waiting for their 250 each need their message committed, and each
commit costs a flush to disk. Here the first caller starts a writer; whoever arrives
while it writes waits and goes into the next transaction with the others, so a burst
costs a few commits instead of one per message. Each caller still returns only once its
own item is committed. If a shared write fails, its items are written again one by one,
so one bad item fails only itself.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_ITEMS = 100  # items per shared transaction


class GroupCommit(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self.write = write
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once `item` is committed; raise what its write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="group-commit")
        await done

    async def _write_all(self) -> None:
        while self._waiting:
            taken = self._waiting[:MAX_ITEMS]
            del self._waiting[:MAX_ITEMS]
            try:
                await self.write([item for item, _ in taken])
            except Exception as exc:
                if len(taken) == 1:
                    _settle(taken[0][1], exc)
                else:
                    await self._one_by_one(taken)
                continue
            for _, done in taken:
                _settle(done, None)

    async def _one_by_one(self, taken: list[tuple[T, asyncio.Future[None]]]) -> None:
        for item, done in taken:
            try:
                await self.write([item])
            except Exception as exc:
                _settle(done, exc)
            else:
                _settle(done, None)


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # its caller went away (the SMTP session was dropped)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
