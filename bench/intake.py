"""Intake: 20 concurrent SMTP clients post to the list; accepted messages per second and the
time from MAIL FROM to the 250 after DATA (mailbot commits each message before its 250).

The 20 senders are members seeded by `mailbot members import`, then set to delivery "off"
(SQL) so that this measures intake, with the worker handling each post, not fan-out.
The raw limit is the same load against a bare aiosmtpd sink that keeps messages in memory,
in its own process as the daemon is.

    .venv/bin/python bench/intake.py --db sqlite|postgresql [--quick]
"""

import asyncio
import statistics
import sys
import time
from pathlib import Path

from common import (
    BenchError,
    Daemon,
    Sink,
    bare_sink_process,
    database,
    emit,
    free_port,
    import_members,
    main,
    message,
    raw_send,
    serving,
    sql,
    write_config,
)

CLIENTS = 20


def load(count: int, senders: list[str]) -> list[tuple[str, list[str], bytes]]:
    return [(senders[i % CLIENTS], ["sel@example.org"],
             message(senders[i % CLIENTS], f"Message {i}", "Bonjour à tous.\n" * 20))
            for i in range(count)]


async def timed(port: int,
                messages: list[tuple[str, list[str], bytes]]) -> tuple[float, list[float]]:
    started = time.monotonic()
    latencies = await raw_send(port, messages, CLIENTS)
    return time.monotonic() - started, sorted(latencies)


def report(name: str, count: int, elapsed: float, latencies: list[float]) -> float:
    rate = count / elapsed
    emit(f"{name}.accepted_per_s", rate)
    emit(f"{name}.p50_ms", statistics.median(latencies) * 1000)
    emit(f"{name}.p99_ms", latencies[int(len(latencies) * 0.99) - 1] * 1000)
    return rate


async def run(kind: str, quick: bool, tmp: Path) -> None:
    count = 200 if quick else 2000
    name = f"intake_{count}"
    senders = [f"sender{i}@example.net" for i in range(CLIENTS)]
    sink = Sink()
    await sink.start()
    with database(kind, tmp) as url:
        port = free_port()
        config = write_config(tmp, url, sink_port=sink.port, port=port)
        await import_members(config, tmp, senders)
        sql(url, "UPDATE member SET delivery = 'off'")
        async with serving(config, port, name) as daemon:
            await daemon.start()
            elapsed, latencies = await timed(port, load(count, senders))
            rate = report(name, count, elapsed, latencies)
            stored = sql(url, "SELECT count(*) FROM inbound_message")
            if stored != count:
                raise BenchError(f"{stored} messages stored, {count} accepted")
            await processed(url, name, daemon)
    await sink.stop()
    raw_port = free_port()
    async with bare_sink_process(raw_port):
        raw_elapsed, raw_latencies = await timed(raw_port, load(count, senders))
    raw_rate = report(f"{name}.raw", count, raw_elapsed, raw_latencies)
    emit(f"{name}.ratio", rate / raw_rate, 2)


async def processed(url: str, name: str, daemon: Daemon) -> None:
    """How long after the last 250 the worker was done with every post (bounded)."""
    started = time.monotonic()
    while sql(url, "SELECT count(*) FROM inbound_message WHERE status = 'new'"):
        if time.monotonic() - started > 120:
            raise BenchError(f"posts still unprocessed after 120s: {daemon.tail()}")
        await asyncio.sleep(0.1)
    emit(f"{name}.worker_backlog_s", time.monotonic() - started)


if __name__ == "__main__":
    main(run, limit=600 if "--quick" in sys.argv else 3600)
