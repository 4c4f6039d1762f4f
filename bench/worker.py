"""The worker's cost per post, in process: N posts from 20 members (delivery off, as in
intake.py) stored as intake stores them, then handled as the daemon does
(`Service.process_pending`: turns of 20 ms, no savepoint a message). Prints the CPU
time (process time) and wall time per post, and, as the floor of the same machine in the
same run, the time to parse the same posts and read their text with the email package
(what any handling pays first), and how many such readings a post costs (`ratio`).

    .venv/bin/python bench/worker.py --db sqlite|postgresql [--quick] [--count N]
                                     [--instructions]

`--instructions` runs the same again under callgrind (valgrind), counting the machine
instructions of the handling alone, in turns of `TURN_POSTS` posts (a clock that ticks
once a post) with a fixed hash seed, and prints them a post: unlike CPU time, which moves
by a third from run to run on a shared machine, the count moves by about 0.2 %, so two
commits can be compared with one run each. (Instructions are not time: a cache miss, a
wait or the kernel's side of a system call costs none; compare like with like.)
"""

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from common import (
    ENV,
    PY,
    BenchError,
    database,
    emit,
    import_members,
    main,
    message,
    sql,
    write_config,
)

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.inbound.intake import Arrival, store_arrivals
from mailbot.reading.message import parse, readable_text
from mailbot.service import Service

SENDERS = [f"sender{i}@example.net" for i in range(20)]
COUNT: list[int] = []
UNDER_CALLGRIND = "MAILBOT_BENCH_UNDER_CALLGRIND"  # set in the run callgrind counts
# Posts a turn when counting instructions: what a worker process's 40 ms of CPU hold on
# this machine (20 ms held 7.0-7.6 in session 36); the one-process daemon's 20 ms of wall
# clock held about 11.
TURN_POSTS = 14
WARM_UP = 100  # posts handled before those counted


async def run(kind: str, quick: bool, tmp: Path) -> None:
    count = COUNT[0] if COUNT else (200 if quick else 2000)
    name = f"worker_{count}"
    posts = [message(SENDERS[i % 20], f"Message {i}", "Bonjour à tous.\n" * 20)
             for i in range(count)]
    with database(kind, tmp) as url:
        path = write_config(tmp, url, sink_port=1, port=2)
        await import_members(path, tmp, SENDERS)
        sql(url, "UPDATE member SET delivery = 'off'")
        service = Service(load_config(path))
        try:
            cpu = await _handle(service, name, posts)
        finally:
            service.close()
    if os.environ.get(UNDER_CALLGRIND):
        return  # the figures are the caller's (`_count_instructions`)
    started = time.process_time()
    for raw in posts:
        readable_text(parse(raw))
    floor = (time.process_time() - started) / count * 1000
    emit(f"{name}.read_text_ms_per_post", floor, 3)
    emit(f"{name}.ratio", cpu / floor, 1)


async def _handle(service: Service, name: str, posts: list[bytes]) -> float:
    """Store the posts, handle them all; the CPU milliseconds a post took."""
    recipient = resolve("sel@example.org", service.config.lists, service.config.server.separator)
    assert recipient is not None
    now = service.clock.now()
    arrivals: list[Arrival] = [(raw, SENDERS[i % 20], [("sel@example.org", recipient)], now)
                               for i, raw in enumerate(posts)]
    counted = bool(os.environ.get(UNDER_CALLGRIND))
    if counted:  # turns of TURN_POSTS posts, whatever valgrind's pace, once warm
        ticks = itertools.count()
        service.turn_clock, service.worker_slice = lambda: float(next(ticks)), TURN_POSTS
        await _warm_up(service, recipient, now)
    await service.db.run(store_arrivals, arrivals)
    if counted:
        _callgrind("on")
    wall, cpu = time.perf_counter(), time.process_time()
    handled = await service.process_pending()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if counted:
        _callgrind("off")
    if handled != len(posts):
        raise BenchError(f"{handled} posts handled of {len(posts)}")
    if counted:
        return 0.0
    emit(f"{name}.cpu_ms_per_post", cpu / handled * 1000, 2)
    emit(f"{name}.wall_ms_per_post", wall / handled * 1000, 2)
    emit(f"{name}.posts_per_s", handled / wall)
    return cpu / handled * 1000


async def _warm_up(service: Service, recipient: Any, now: datetime) -> None:
    """Posts handled before the counted ones, uncounted: what is done once (statements
    compiled and prepared, patterns, templates) is not counted a post."""
    posts = [message(SENDERS[i % 20], f"Warm-up {i}", "Bonjour à tous.\n" * 20)
             for i in range(WARM_UP)]
    await service.db.run(store_arrivals, [
        (raw, SENDERS[i % 20], [("sel@example.org", recipient)], now)
        for i, raw in enumerate(posts)])
    if await service.process_pending() != WARM_UP:
        raise BenchError("the warm-up posts were not all handled")


def _callgrind(switch: str) -> None:
    """Callgrind's instrumentation of this process on or off (valgrind runs it)."""
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True,
                   capture_output=True)


def _count_instructions(count: int) -> None:
    """This bench again under callgrind, instrumented while the posts are handled: prints
    the instructions a post (millions)."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("bench: worker.py --instructions needs valgrind (apt-get install valgrind)")
    argv = [a for a in sys.argv[1:] if a != "--instructions"]
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", PY, str(Path(__file__).resolve()), *argv],
            env={**ENV, UNDER_CALLGRIND: "1", "PYTHONHASHSEED": "0"}, check=False)
        if done.returncode:
            sys.exit(f"bench: worker.py under callgrind exited {done.returncode}")
        total = next(int(line.split()[1]) for line in out.read_text().splitlines()
                     if line.startswith("totals:"))
    emit(f"worker_{count}.turn_posts", TURN_POSTS, 0)
    emit(f"worker_{count}.instructions_per_post_M", total / count / 1e6, 3)


if __name__ == "__main__":
    options = argparse.ArgumentParser()
    options.add_argument("--count", type=int, help="posts to handle (default 2000)")
    options.add_argument("--instructions", action="store_true",
                         help="count instructions a post under callgrind (needs valgrind)")
    known = options.parse_known_args()[0]
    if known.count:
        COUNT.append(known.count)
    if known.instructions:
        _count_instructions(known.count or (200 if "--quick" in sys.argv else 2000))
    else:
        main(run, limit=3600 if os.environ.get(UNDER_CALLGRIND) else
             300 if "--quick" in sys.argv else 1200, parser=options)
