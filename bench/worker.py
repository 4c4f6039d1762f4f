"""The worker's cost per post, in process: N posts from 20 members (delivery off, as in
intake.py) stored as intake stores them, then handled as the daemon does
(`Service.process_pending`: turns of 20 ms, no savepoint a message). Prints the CPU
time (process time) and wall time per post, and, as the floor of the same machine in the
same run, the time to parse the same posts and read their text with the email package
(what any handling pays first), and how many such readings a post costs (`ratio`).

    .venv/bin/python bench/worker.py --db sqlite|postgresql [--quick] [--count N]
"""

import argparse
import sys
import time
from pathlib import Path

from common import BenchError, database, emit, import_members, main, message, sql, write_config

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.inbound.intake import Arrival, store_arrivals
from mailbot.reading.message import parse, readable_text
from mailbot.service import Service

SENDERS = [f"sender{i}@example.net" for i in range(20)]
COUNT: list[int] = []


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
    await service.db.run(store_arrivals, arrivals)
    wall, cpu = time.perf_counter(), time.process_time()
    handled = await service.process_pending()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if handled != len(posts):
        raise BenchError(f"{handled} posts handled of {len(posts)}")
    emit(f"{name}.cpu_ms_per_post", cpu / handled * 1000, 2)
    emit(f"{name}.wall_ms_per_post", wall / handled * 1000, 2)
    emit(f"{name}.posts_per_s", handled / wall)
    return cpu / handled * 1000


if __name__ == "__main__":
    options = argparse.ArgumentParser()
    options.add_argument("--count", type=int, help="posts to handle (default 2000)")
    known = options.parse_known_args()[0]
    if known.count:
        COUNT.append(known.count)
    main(run, limit=300 if "--quick" in sys.argv else 1200, parser=options)
