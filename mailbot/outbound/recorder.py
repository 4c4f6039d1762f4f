"""Recording delivery results in shared commits, beside the sending.

A connection hands each transaction's results here and goes on; it waits only when
`outbound.record_batch` of its transactions are still unrecorded, which bounds what a
crash can resend to that many per connection. Results that arrive while a write is under
way (or, with `linger`, in the moment before it) go together into the next one (the group
commit of storage/grouping.py). When the database is away the results are kept and the
write is tried again.
"""

from collections.abc import Awaitable, Callable

from mailbot.storage.deliveries import Result
from mailbot.storage.grouping import GroupCommit

Write = Callable[[list[Result]], Awaitable[None]]


class Recorder:
    def __init__(self, write: Write, *, linger: float = 0.0) -> None:
        async def write_all(groups: list[list[Result]]) -> None:
            await write([result for results in groups for result in results])

        self._group: GroupCommit[list[Result]] = GroupCommit(
            write_all, max_items=None,
            retry=lambda groups: f"{sum(map(len, groups))} delivery results", linger=linger)

    async def record(self, results: list[Result]) -> None:
        """Return once `results` are written. Stopping lets a write under way finish."""
        await self._group.submit(results)
