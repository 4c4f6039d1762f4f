"""Recording delivery results: every connection waits for its own, and they share commits.

A connection starts its next transaction only once the results of the last one are in the
database, which bounds what a crash can resend to one transaction per connection. Results
that arrive while a write is under way go together into the next one (group commit), so
waiting costs each connection one write at most, not one write per delivery each. When the
database is away the results are kept and the write is tried again.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from mailbot.outbound.queue import Result

log = logging.getLogger(__name__)

Write = Callable[[list[Result]], Awaitable[None]]


class Recorder:
    def __init__(self, write: Write) -> None:
        self.write = write
        self._waiting: list[tuple[list[Result], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, results: list[Result]) -> None:
        """Return once `results` are written. Stopping lets a write under way finish."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((results, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="recorder")
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:  # what the smarthost took gets recorded all the same
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(done), 10)
            raise

    async def _write_all(self) -> None:
        while self._waiting:
            taken, self._waiting = self._waiting, []
            await self._write_until_done([r for results, _ in taken for r in results])
            for _, done in taken:
                if not done.done():
                    done.set_result(None)

    async def _write_until_done(self, results: list[Result]) -> None:
        wait = 0.2
        while True:
            try:
                await self.write(results)
                return
            except Exception as exc:
                cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                log.warning("could not record %d delivery results (%s); trying again",
                            len(results), cause)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)
