"""Group commit: writes that arrive while one is under way share the next transaction.

Twenty SMTP sessions waiting for their 250 each need their message committed, and each
commit costs a flush to disk. Here the first caller starts a writer; whoever arrives
while it writes waits and goes into the next transaction with the others, so a burst
costs a few commits instead of one per message. Each caller still returns only once its
own item is committed.

What a failed shared write means depends on the items, so the owner says:
- by default (received messages) its items are written again one by one, so one bad item
  fails only itself, and its caller gets the error;
- with `retry` (delivery results, which must not be lost: the smarthost has them already)
  the whole write is tried again until it succeeds, and a caller that is cancelled still
  waits a little for a write under way.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_ITEMS = 100  # items per shared transaction


class GroupCommit(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]], *,
                 max_items: int | None = MAX_ITEMS,
                 retry: Callable[[list[T]], str] | None = None,
                 linger: float = 0.0) -> None:
        """`retry`, when given, names a group of items for the log ("3 delivery
        results") and makes a failed write be tried again rather than split. `linger`:
        seconds a writer waits before a write that follows another within that time, so
        that more items share it (for callers that can wait, such as delivery results
        under `outbound.record_batch`); a write after a quiet moment goes at once, so a
        single reply is never held back."""
        self.write = write
        self.max_items = max_items
        self.retry = retry
        self.linger = linger
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_write = float("-inf")  # when the last write ended (loop time)

    def pending(self) -> bool:
        """Items are waiting or being written (read from any thread: a hint, not a lock)."""
        writer = self._writer
        return writer is not None and not writer.done()

    async def settled(self) -> None:
        """Once no write is under way or waiting (what was submitted is written)."""
        while (writer := self._writer) is not None and not writer.done():
            await asyncio.wait([writer])

    async def submit(self, item: T) -> None:
        """Return once `item` is committed; raise what its write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="group-commit")
        if self.retry is None:
            await done
            return
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:  # what is under way gets written all the same
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(done), 10)
            raise

    async def _write_all(self) -> None:
        while self._waiting:
            if self.linger and self._in_a_stream():
                await asyncio.sleep(self.linger)
            cut = len(self._waiting) if self.max_items is None else self.max_items
            taken = self._waiting[:cut]
            del self._waiting[:cut]
            items = [item for item, _ in taken]
            try:
                await (self._write_until_done(items) if self.retry else self.write(items))
            except Exception as exc:
                self._last_write = asyncio.get_running_loop().time()
                if len(taken) == 1:
                    _settle(taken[0][1], exc)
                else:
                    await self._one_by_one(taken)
                continue
            self._last_write = asyncio.get_running_loop().time()
            for _, done in taken:
                _settle(done, None)

    def _in_a_stream(self) -> bool:
        """Whether the last write ended less than `linger` ago: more are coming."""
        return asyncio.get_running_loop().time() - self._last_write < self.linger

    async def _one_by_one(self, taken: list[tuple[T, asyncio.Future[None]]]) -> None:
        for item, done in taken:
            try:
                await self.write([item])
            except Exception as exc:
                _settle(done, exc)
            else:
                _settle(done, None)

    async def _write_until_done(self, items: list[T]) -> None:
        assert self.retry is not None
        wait = 0.2
        while True:
            try:
                await self.write(items)
                return
            except Exception as exc:
                cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                log.warning("could not record %s (%s); trying again", self.retry(items),
                            cause)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # its caller went away (the SMTP session was dropped)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
