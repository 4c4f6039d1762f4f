"""Digests: N members in daily digest mode, M messages distributed since their last digest;
the time to build and queue every digest (`Service.send_digests_now`, the function behind
`mailbot digest send`, run here in-process on the real config and database).

Members come from `mailbot members import`, set to "daily" by SQL; the messages go through
the real `mailbot inject` (stored, handled, distributed: to nobody at once, all readers
being in digest mode), in threads of five. The digests are built while the real daemon
runs on the same database and gets a post every half second: how long its 250 takes then
(the digests are built in one transaction). The daemon is stopped once they are queued.

    .venv/bin/python bench/digests.py --db sqlite|postgresql [--quick]
"""

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import aiosmtplib
from common import (
    BenchError,
    Sink,
    cli,
    database,
    emit,
    free_port,
    import_members,
    main,
    message,
    serving,
    sql,
    write_config,
)

from mailbot.config import load_config
from mailbot.service import Service


def write_messages(folder: Path, count: int, sender: str) -> list[Path]:
    """`count` posts by one member, in threads of five (References to the thread's first)."""
    folder.mkdir()
    paths, root = [], ""
    for i in range(count):
        raw = message(sender, f"Sujet {i // 5}" if i % 5 == 0 else f"Re: Sujet {i // 5}",
                      f"Message {i}.\nDeux lignes de texte à lire dans le résumé.\n",
                      refs="" if i % 5 == 0 else root)
        if i % 5 == 0:
            root = next(line.split(b":", 1)[1].strip().decode() for line in raw.splitlines()
                        if line.lower().startswith(b"message-id:"))
        paths.append(folder / f"{i:05d}.eml")
        paths[-1].write_bytes(raw)
    return paths


async def probe(port: int, sender: str, stop: asyncio.Event) -> list[tuple[float, int]]:
    """A post to the running daemon every half second until `stop`: (seconds to reply, code)."""
    replies: list[tuple[float, int]] = []
    while not stop.is_set():
        started = time.monotonic()
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        try:
            await client.connect()
            await client.sendmail(sender, ["sel@example.org"], message(sender, "Pendant"))
            code = 250
        except aiosmtplib.SMTPResponseException as exc:
            code = exc.code
        finally:
            client.close()
        replies.append((time.monotonic() - started, code))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return replies


async def build(config: Path, port: int, sender: str) -> tuple[int, float, list[Any]]:
    """`send_digests_now` in this process while `probe` posts to the daemon."""
    stop = asyncio.Event()
    probing = asyncio.create_task(probe(port, sender, stop))
    service = Service(load_config(config))
    try:
        started = time.monotonic()
        sent = await service.send_digests_now()
        elapsed = time.monotonic() - started
    finally:
        service.close()
        stop.set()
    return sent, elapsed, await probing


async def run(kind: str, quick: bool, tmp: Path) -> None:
    members, count = (500, 50) if quick else (5000, 500)
    name = f"digests_{members}x{count}"
    emails = [f"reader{i}@example.net" for i in range(members)]
    sink = Sink()
    await sink.start()
    with database(kind, tmp) as url:
        port = free_port()
        config = write_config(tmp, url, sink_port=sink.port, port=port)
        await import_members(config, tmp, emails)
        sql(url, "UPDATE member SET delivery = 'daily'")
        started = time.monotonic()
        await cli(config, "inject", *map(str, write_messages(tmp / "eml", count, emails[0])))
        emit(f"{name}.inject_s", time.monotonic() - started)
        distributed = sql(url, "SELECT count(*) FROM inbound_message "
                               "WHERE distributed_at IS NOT NULL")
        if distributed != count:
            raise BenchError(f"{distributed} of {count} messages distributed")
        async with serving(config, port, name) as daemon:
            await daemon.start()
            started = time.monotonic()  # its first tick marks the readers' last digest time
            while sql(url, "SELECT count(*) FROM member WHERE digest_through IS NULL"):
                if time.monotonic() - started > 120:
                    raise BenchError(f"the daemon's first tick did not end: {daemon.tail()}")
                await asyncio.sleep(0.2)
            sent, elapsed, replies = await build(config, port, emails[0])
        queued = sql(url, "SELECT count(*) FROM delivery d JOIN outbound_message o "
                          "ON o.id = d.outbound_id WHERE o.purpose = 'digest'")
        if sent != members or queued != members:
            raise BenchError(f"{sent} digests built, {queued} queued, want {members}")
        size = sql(url, "SELECT avg(length(raw)) FROM outbound_message WHERE purpose = 'digest'")
        emit(f"{name}.build_queue_s", elapsed)
        emit(f"{name}.digests_per_s", members / elapsed)
        emit(f"{name}.digest_kb", float(size) / 1024)
        emit(f"{name}.posts_during_build", len(replies))
        emit(f"{name}.posts_during_build.max_ms", max(t for t, _ in replies) * 1000)
        emit(f"{name}.posts_during_build.refused", sum(code != 250 for _, code in replies))
    await sink.stop()


if __name__ == "__main__":
    main(run, limit=600 if "--quick" in sys.argv else 3600)
