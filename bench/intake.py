"""Intake: 20 concurrent SMTP clients post to the list; accepted messages per second and the
time from MAIL FROM to the 250 after DATA (mailbot commits each message before its 250).

The 20 senders are members seeded by `mailbot members import`, then set to delivery "off"
(SQL) so that this measures intake, with the worker handling each post, not fan-out.
The raw limit is the same load against a bare aiosmtpd sink that keeps messages in memory,
in its own process as the daemon is. Each `--workers` value (`server.workers`, default
"0,1") is a daemon of its own on a fresh database: `intake_N.*` with none (one process does
everything), `intake_N_wK.*` with K worker processes beside the listener.

    .venv/bin/python bench/intake.py --db sqlite|postgresql [--quick] [--workers 0,1,2]
                                     [--repeat N]
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from common import (
    FIGURES,
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
    polling,
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


WORKERS: list[int] = []
REPEAT = [1]  # --repeat N: the daemons and the bare server N times in turn, and the medians
# what --repeat gives the median (min-max) of, for each daemon
IN_TURN = ("accepted_per_s", "p99_ms", "worker_backlog_s", "ratio")


async def run(kind: str, quick: bool, tmp: Path) -> None:
    """Each daemon, then the bare server (its raw limit) right after: with --repeat, that
    N times and the medians, since this machine's speed drifts from minute to minute (the
    bare server alone moved 1,700-3,400 accepted/s between rounds)."""
    count = 200 if quick else 2000
    seen: dict[str, list[float]] = {}
    for round_ in range(REPEAT[0]):
        where = tmp / f"r{round_}"
        where.mkdir()
        await one_round(kind, count, where)
        for figure in [f"{named(count, w)}.{f}" for w in WORKERS for f in IN_TURN] + [
                f"intake_{count}.raw.accepted_per_s"]:
            seen.setdefault(figure, []).append(FIGURES[figure])
    if REPEAT[0] > 1:
        for figure, values in seen.items():
            digits = 2 if figure.endswith(".ratio") else 1
            emit(f"{figure}_median", statistics.median(values), digits)
            emit(f"{figure}_min", min(values), digits)
            emit(f"{figure}_max", max(values), digits)


async def one_round(kind: str, count: int, tmp: Path) -> None:
    name = f"intake_{count}"
    sink = Sink()
    await sink.start()
    rates = {}
    for workers in WORKERS:
        each = tmp / f"w{workers}"
        each.mkdir()
        rates[workers] = await one_daemon(kind, count, workers, sink.port, each)
    await sink.stop()
    raw_port = free_port()
    async with bare_sink_process(raw_port):
        raw_elapsed, raw_latencies = await timed(raw_port, load(count, SENDERS))
    raw_rate = report(f"{name}.raw", count, raw_elapsed, raw_latencies)
    for workers, rate in rates.items():
        emit(f"{named(count, workers)}.ratio", rate / raw_rate, 2)


SENDERS = [f"sender{i}@example.net" for i in range(CLIENTS)]


def named(count: int, workers: int) -> str:
    return f"intake_{count}" + (f"_w{workers}" if workers else "")


async def one_daemon(kind: str, count: int, workers: int, sink_port: int, tmp: Path) -> float:
    name = named(count, workers)
    with database(kind, tmp) as url:
        port = free_port()
        config = write_config(tmp, url, sink_port=sink_port, port=port,
                              server=f"workers = {workers}\n")
        await import_members(config, tmp, SENDERS)
        sql(url, "UPDATE member SET delivery = 'off'")
        async with serving(config, port, name) as daemon:
            await daemon.start()
            posts = load(count, SENDERS)
            await daemon.settled()  # the workers' start-up is not the posts' cost
            before = daemon.cpu_seconds()
            elapsed, latencies = await timed(port, posts)
            rate = report(name, count, elapsed, latencies)
            await processed(url, name, daemon, count)
            cpu_per_post(name, count, before, daemon.cpu_seconds(), workers)
            stored = sql(url, "SELECT count(*) FROM inbound_message")
            if stored != count:
                raise BenchError(f"{stored} messages stored, {count} accepted")
    return rate


async def processed(url: str, name: str, daemon: Daemon, count: int) -> None:
    """How long after the last 250 the worker was done with every post (bounded), asked
    every 50 ms on one connection. On SQLite with workers, a post may still be in
    `<db>.arrivals`: counted once handled."""
    started = time.monotonic()
    with polling(url) as ask:
        def handled() -> int:
            return int(ask("SELECT count(*) FROM inbound_message WHERE status != 'new'"))

        emit(f"{name}.new_at_last_250", count - handled())
        while handled() < count:
            if time.monotonic() - started > 120:
                raise BenchError(f"posts still unprocessed after 120s: {daemon.tail()}")
            await asyncio.sleep(0.05)
    emit(f"{name}.worker_backlog_s", time.monotonic() - started)


def cpu_per_post(name: str, count: int, before: tuple[float, float],
                 after: tuple[float, float], workers: int) -> None:
    """CPU milliseconds a post, from the first MAIL FROM until every post was handled:
    the listener's process (everything, with no workers) and the workers' together."""
    emit(f"{name}.listener_cpu_ms_per_post", (after[0] - before[0]) * 1000 / count, 2)
    if workers:
        emit(f"{name}.workers_cpu_ms_per_post", (after[1] - before[1]) * 1000 / count, 2)


if __name__ == "__main__":
    options = argparse.ArgumentParser()
    options.add_argument("--workers", default="0,1",
                         help="server.workers values to measure, e.g. 0,1,2")
    options.add_argument("--repeat", type=int, default=1,
                         help="rounds of every daemon and the bare server, then the medians")
    known = options.parse_known_args()[0]
    WORKERS[:] = [int(w) for w in known.workers.split(",")]
    REPEAT[0] = max(1, known.repeat)
    main(run, limit=600 if "--quick" in sys.argv else 3600, parser=options)
