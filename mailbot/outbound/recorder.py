"""Recording delivery results: every connection waits for its own, and they share commits.

A connection starts its next transaction only once the results of the last one are in the
database, which bounds what a crash can resend to one transaction per connection. Results
that arrive while a write is under way go together into the next one (the group commit of
storage/grouping.py), so waiting costs each connection one write at most. When the
database is away the results are kept and the write is tried again.
"""

from collections.abc import Awaitable, Callable

from mailbot.storage.deliveries import Result
from mailbot.storage.grouping import GroupCommit

Write = Callable[[list[Result]], Awaitable[None]]


class Recorder:
    def __init__(self, write: Write) -> None:
        async def write_all(groups: list[list[Result]]) -> None:
            await write([result for results in groups for result in results])

        self._group: GroupCommit[list[Result]] = GroupCommit(
            write_all, max_items=None,
            retry=lambda groups: f"{sum(map(len, groups))} delivery results")

    async def record(self, results: list[Result]) -> None:
        """Return once `results` are written. Stopping lets a write under way finish."""
        await self._group.submit(results)
