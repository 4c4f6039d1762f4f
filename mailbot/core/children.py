"""Worker processes of a daemon: started, woken, watched, restarted, stopped.

Each child gets the read end of a pipe of its own. The parent writes one byte to wake it
(what the byte means is the caller's affair); when the parent dies, even by kill -9, the
child reads the end of the pipe and stops, so no worker outlives its daemon. A child that
dies while the parent runs is started again, after a pause that doubles up to a minute.
"""

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

WATCH_EVERY = 0.2  # seconds between looks at the children
FIRST_PAUSE = 0.5  # seconds before a child that died is started again (then doubled)
LONGEST_PAUSE = 60.0
STOP_TIMEOUT = 30.0  # seconds a child has to finish its turn once asked to stop
# A child younger than this may still be starting (importing), before it handles the
# signals it is sent: SIGUSR1 would stop it then, so it is not passed on to such a child.
SETTLED = 3.0


@dataclass
class _Child:
    number: int
    process: subprocess.Popen[bytes]
    wake_fd: int
    pause: float = FIRST_PAUSE
    started: float = field(default_factory=time.monotonic)


class Children:
    """`count` processes, each `command(read_fd, number)`, with the pipe's read end passed
    down (`number`: 0 to count - 1, the same when a child is started again)."""

    def __init__(self, command: Callable[[int, int], list[str]], count: int) -> None:
        self.command, self.count = command, count
        self._children: list[_Child] = []
        self._stopping = False

    def start(self) -> None:
        self._children = [self._spawn(number) for number in range(self.count)]

    def pids(self) -> list[int]:
        return [child.process.pid for child in self._children]

    def pass_on(self, signum: int) -> None:
        """Send `signum` to every child that has had the time to start (SETTLED)."""
        for child in self._children:
            if time.monotonic() - child.started >= SETTLED and child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signum)

    def wake(self, byte: bytes) -> None:
        """Tell every child (never blocks: a full pipe already has a wake-up in it)."""
        for child in self._children:
            if child.wake_fd < 0:  # being started again
                continue
            with contextlib.suppress(BlockingIOError, BrokenPipeError):
                os.write(child.wake_fd, byte)

    async def watch(self) -> None:
        """Start again any child that died, until `stop`."""
        while not self._stopping:
            for index, child in enumerate(self._children):
                code = child.process.poll()
                if code is None or self._stopping:
                    continue
                alive_for = time.monotonic() - child.started
                pause = FIRST_PAUSE if alive_for > LONGEST_PAUSE else child.pause
                _close(child)
                await asyncio.sleep(pause)  # a stop under way (its SIGTERM reached the
                if self._stopping:          # children too) is not a death
                    break
                log.error("worker process %d (pid %d) exited %s: started again after %.1fs",
                          child.number, child.process.pid, code, pause)
                self._children[index] = self._spawn(child.number)
                self._children[index].pause = min(pause * 2, LONGEST_PAUSE)
            await asyncio.sleep(WATCH_EVERY)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask every child to stop (SIGTERM), wait for them, kill what is left."""
        self._stopping = True
        for child in self._children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(c.process.poll() is None for c in self._children):
            if time.monotonic() > deadline:
                for child in self._children:
                    if child.process.poll() is None:
                        log.error("worker process %d did not stop: killed", child.number)
                        child.process.kill()
                        child.process.wait()
                break
            await asyncio.sleep(0.05)
        for child in self._children:
            _close(child)

    def _spawn(self, number: int) -> _Child:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        try:
            process = subprocess.Popen(self.command(read_fd, number), pass_fds=(read_fd,),
                                       stdin=subprocess.DEVNULL)
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        log.info("worker process %d started (pid %d)", number, process.pid)
        return _Child(number, process, write_fd)


def _close(child: _Child) -> None:
    """Close a child's end of its pipe once (a closed number may be reused at once)."""
    if child.wake_fd >= 0:
        os.close(child.wake_fd)
        child.wake_fd = -1


def on_wake(fd: int, wakes: dict[bytes, Callable[[], None]],
            orphaned: Callable[[], None]) -> None:
    """In a child: call `wakes[byte]` for each byte the parent writes to `fd`, and
    `orphaned` once the parent is gone (the pipe's end)."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        if not data:
            loop.remove_reader(fd)
            orphaned()
            return
        for byte, wake in wakes.items():
            if byte in data:
                wake()

    loop.add_reader(fd, readable)
