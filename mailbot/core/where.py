"""Where a running daemon is: each asyncio task and each thread, with where it waits.

`mailbot serve` writes it to its log on SIGUSR1 (`kill -USR1 PID`), and goes on: for a
daemon that seems stuck (a post accepted and never handled), what it waits for is then in
its log. Nothing here changes what the daemon does.
"""

import asyncio
import sys
import threading
import traceback
from typing import Any


def where(loop: asyncio.AbstractEventLoop) -> str:
    """The tasks of `loop` (each coroutine it is in, outermost first, and what the
    innermost waits for) and the threads of the process (their stacks), as text."""
    tasks = sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name())
    lines = [f"{len(tasks)} task(s):"]
    for task in tasks:
        lines.append(f"- task {task.get_name()}")
        lines.extend(f"    {line}" for line in awaiting(task.get_coro()))
        waiter = getattr(task, "_fut_waiter", None)  # CPython's: the future it waits on
        if waiter is not None:
            lines.append(f"    on {waiter!r}"[:300])
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    frames = sorted(sys._current_frames().items(), key=lambda item: str(names.get(item[0])))
    lines.append(f"{len(frames)} thread(s):")
    for ident, frame in frames:
        lines.append(f"- thread {names.get(ident, ident)}")
        lines.extend(f"    {line}" for chunk in traceback.format_stack(frame)
                     for line in chunk.rstrip("\n").split("\n"))
    return "\n".join(lines)


def awaiting(coroutine: Any) -> list[str]:
    """Each coroutine of an await chain where it is suspended, outermost first, then what
    the innermost waits for (a future, a sleep) when it is not a coroutine."""
    lines, awaited = [], coroutine
    while (frame := getattr(awaited, "cr_frame", None) or
           getattr(awaited, "gi_frame", None)) is not None:
        code = frame.f_code
        lines.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    if awaited is not None and getattr(awaited, "cr_frame", 1) is not None and \
            type(awaited).__name__ != "FutureIter":  # a future's iterator says nothing
        lines.append(f"waits for {awaited!r}"[:300])
    return lines
