"""Scale-out: 1, 2 and 4 `mailbot serve` processes on one PostgreSQL schema, one sink.

For each number of daemons D: (a) fan-out: N members imported once, M posts sent over the
daemons' listeners in turn; deliveries/s from the first 250 to the last delivery, each
daemon's share (by the EHLO name it gives the sink), the daemons' CPU time per delivery,
and duplicates (there must be none);
(b) intake: 20 concurrent clients spread over the listeners, posting from members whose
delivery is off (as bench/intake.py does): accepted/s, p50/p99, how long the workers
still needed after the last 250, and the daemons' CPU time per message. `vs_1` compares
each rate with one daemon in the same run. Every daemon has its own config (listen port,
hostname) on the same schema.

All the daemons, PostgreSQL and the sink share this machine's cores: where D exceeds what
the cores can run, more daemons add no CPU and the figures show what sharing costs.

    .venv/bin/python bench/scaleout.py --db postgresql [--quick] [--daemons 1,2,4]
"""

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import Envelope
from common import (
    BenchError,
    Daemon,
    Sink,
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
from fanout import wait_deliveries
from intake import CLIENTS, load, processed, report

SETTLE = 1.0  # seconds to keep watching for a duplicate once every copy has arrived


class CountingSink(Sink):
    """The sink, also counting deliveries by the EHLO name of the daemon that made them."""

    def __init__(self) -> None:
        super().__init__()
        self.by_daemon = Counter[str]()

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.by_daemon[session.host_name] += len(envelope.rcpt_tos)
        return await super().handle_DATA(server, session, envelope)


@contextlib.asynccontextmanager
async def daemons(tmp: Path, url: str, count: int, sink_port: int,
                  name: str) -> AsyncIterator[list[Daemon]]:
    """`count` daemons on the schema at `url`, each its own folder, config, port and
    hostname (d0.example.org …), started together and stopped whatever happens."""
    configs = []
    for i in range(count):
        (tmp / f"d{i}").mkdir(parents=True)
        port = free_port()
        configs.append((write_config(tmp / f"d{i}", url, sink_port=sink_port, port=port,
                                     hostname=f"d{i}.example.org"), port))
    async with contextlib.AsyncExitStack() as stack:
        running = [await stack.enter_async_context(serving(config, port, f"{name}.d{i}"))
                   for i, (config, port) in enumerate(configs)]
        await asyncio.gather(*(daemon.start() for daemon in running))
        yield running


def cpu_seconds(running: list[Daemon]) -> float:
    """The CPU time (user + system) the daemons, and their worker processes if they have
    any, have used so far: less swayed than rates by what else runs on the machine."""
    return sum(sum(daemon.cpu_seconds()) for daemon in running)


async def fanout(tmp: Path, count: int, members: int, posts: int) -> float:
    """Deliveries/s with `count` daemons; fails on a lost or doubled copy."""
    name, want = f"scaleout_{count}.fanout", members * posts
    emails = [f"member{i}@example.net" for i in range(members)]
    sink = CountingSink()
    await sink.start()
    with database("postgresql", tmp) as url:
        seed = write_config(tmp, url, sink_port=sink.port, port=free_port())
        await import_members(seed, tmp, emails)
        async with daemons(tmp, url, count, sink.port, name) as running:
            cpu = cpu_seconds(running)
            first_accept = await post_spread([d.port for d in running], emails[0], posts)
            await wait_deliveries(sink, want)
            elapsed = sink.last - first_accept
            cpu = cpu_seconds(running) - cpu
            await asyncio.sleep(SETTLE)
    await sink.stop()
    emit(f"{name}.deliveries", want)
    emit(f"{name}.deliveries_per_s", want / elapsed)
    emit(f"{name}.by_daemon", "/".join(str(sink.by_daemon[f"d{i}.example.org"])
                                       for i in range(count)))
    emit(f"{name}.daemon_cpu_ms_per_delivery", cpu * 1000 / want, 2)
    emit(f"{name}.duplicates", sink.deliveries - len(sink.pairs))
    if sink.deliveries != want or len(sink.pairs) != want:
        raise BenchError(f"{name}: {sink.deliveries} deliveries, {len(sink.pairs)} distinct "
                         f"(message, member) pairs, want {want} of each")
    return want / elapsed


async def post_spread(ports: list[int], sender: str, posts: int) -> float:
    """Post n goes to listener n % D, one client per listener at once; the first 250."""
    accepted: list[float] = []

    async def one_client(port: int, numbers: range) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
        await client.connect()
        for number in numbers:
            await client.sendmail(sender, ["sel@example.org"], message(sender, f"Annonce {number}"))
            accepted.append(time.monotonic())
        await client.quit()

    await asyncio.gather(*(one_client(port, range(i, posts, len(ports)))
                           for i, port in enumerate(ports)))
    return min(accepted)


async def intake(tmp: Path, count: int, messages: int) -> float:
    """Accepted/s with `count` daemons, 20 clients spread over their listeners."""
    name = f"scaleout_{count}.intake"
    senders = [f"sender{i}@example.net" for i in range(CLIENTS)]
    sink = Sink()
    await sink.start()
    with database("postgresql", tmp) as url:
        seed = write_config(tmp, url, sink_port=sink.port, port=free_port())
        await import_members(seed, tmp, senders)
        sql(url, "UPDATE member SET delivery = 'off'")
        async with daemons(tmp, url, count, sink.port, name) as running:
            cpu, started = cpu_seconds(running), time.monotonic()
            latencies = await send_spread([d.port for d in running], load(messages, senders))
            rate = report(name, messages, time.monotonic() - started, sorted(latencies))
            stored = sql(url, "SELECT count(*) FROM inbound_message")
            if stored != messages:
                raise BenchError(f"{name}: {stored} messages stored, {messages} accepted")
            await processed(url, name, running[0], messages)
            emit(f"{name}.daemon_cpu_ms_per_message",
                 (cpu_seconds(running) - cpu) * 1000 / messages, 2)
    await sink.stop()
    return rate


async def send_spread(ports: list[int], messages: list[tuple[str, str, bytes]]) -> list[float]:
    """Client c sends every 20th message to listener c % D; each message's seconds from
    MAIL FROM to the 250 after DATA."""
    latencies: list[float] = []

    async def one_client(port: int, mine: list[tuple[str, str, bytes]]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30, start_tls=False)
        await client.connect()
        for sender, rcpt, raw in mine:
            started = time.monotonic()
            await client.sendmail(sender, [rcpt], raw)
            latencies.append(time.monotonic() - started)
        await client.quit()

    await asyncio.gather(*(one_client(ports[c % len(ports)], messages[c::CLIENTS])
                           for c in range(CLIENTS)))
    return latencies


async def run(counts: list[int], kind: str, quick: bool, tmp: Path) -> None:
    if kind != "postgresql":
        raise BenchError("several daemons share a PostgreSQL database (SQLite allows one serve)")
    members, posts, messages = (1000, 4, 200) if quick else (1000, 20, 2000)
    cores = os.cpu_count() or 1
    emit("scaleout.cores", cores)
    emit("scaleout.load", os.getloadavg()[0], 2)
    print(f"scaleout.note=on {cores} cores shared by the daemons, PostgreSQL and the sink, "
          "more daemons than cores add no CPU: past that the figures show what sharing "
          "one database costs, not a gain", flush=True)
    rates: dict[int, tuple[float, float]] = {}
    for count in counts:
        for part in ("fanout", "intake"):
            (tmp / f"{count}" / part).mkdir(parents=True)
        rates[count] = (await fanout(tmp / f"{count}" / "fanout", count, members, posts),
                        await intake(tmp / f"{count}" / "intake", count, messages))
        if 1 in rates and count != 1:
            emit(f"scaleout_{count}.fanout.vs_1", rates[count][0] / rates[1][0], 2)
            emit(f"scaleout_{count}.intake.vs_1", rates[count][1] / rates[1][1], 2)


def daemon_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",")]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of daemon counts, each ≥ 1")
    return counts


def with_daemons(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--daemons", type=daemon_counts, default=[1, 2, 4],
                        help="how many daemons for each round (default: 1,2,4)")
    return parser


if __name__ == "__main__":
    counts = with_daemons(argparse.ArgumentParser(add_help=False)).parse_known_args()[0].daemons
    main(functools.partial(run, counts), limit=900 if "--quick" in sys.argv else 3600,
         parser=with_daemons(argparse.ArgumentParser()))
