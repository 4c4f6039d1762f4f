"""Fan-out: posts to a list of N members, from the first 250 to the last delivery at a sink.

Members are seeded through the real `mailbot members import` (its time is printed too).
The raw limit is the same number of deliveries (the same bytes: the first copy the sink
got) sent by a bare aiosmtplib client in its own process, over as many connections as the
daemon's `max_connections`, one RCPT per message as the daemon does with VERP (the
default), to the same kind of sink. `first_post_s`: from the first post's 250 to the last
copy of the first message the sink saw. Then the same fan-out again with `outbound.verp =
false` (copies share a transaction, up to `batch_recipients` RCPTs): `fanout_N.noverp.*`,
with its own raw limit in the same transaction shape (the same RCPTs a transaction).
With MAILBOT_BENCH_DKIM=1 the list signs its mail (a 2048-bit key from `mailbot dkim
keygen`): the difference between two runs is the cost of signing.

    [MAILBOT_BENCH_DKIM=1] .venv/bin/python bench/fanout.py --db sqlite|postgresql [--quick]
        [--members N[,N…]] [--posts M] [--no-shared] [--repeat N]
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

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
    message_id,
    raw_send_process,
    serving,
    write_config,
)

STALL = 60.0  # seconds without a new delivery before the bench gives up
BATCH_RECIPIENTS = 50  # outbound.batch_recipients (the default): RCPTs a shared transaction


async def by_daemon(kind: str, tmp: Path, members: int, posts: int, name: str, *,
                    verp: bool) -> tuple[float, bytes]:
    """Posts through the daemon; (seconds from the first 250 to the last delivery, a copy)."""
    emails = [f"member{i}@example.net" for i in range(members)]
    sink = Sink()
    await sink.start()
    with database(kind, tmp) as url:
        port = free_port()
        config = write_config(tmp, url, sink_port=sink.port, port=port,
                              outbound="" if verp else "verp = false\n")
        if os.environ.get("MAILBOT_BENCH_DKIM"):
            await sign_with_dkim(config, tmp)
        seeding = await import_members(config, tmp, emails)
        if verp:
            emit(f"{name}.members_import_s", seeding)
        async with serving(config, port, name) as daemon:
            emit(f"{name}.startup_s", await daemon.start(), 2)
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
            await client.connect()
            first_accept = 0.0
            for number in range(posts):
                await client.sendmail(emails[0], ["sel@example.org"],
                                      message(emails[0], f"Annonce {number}"))
                first_accept = first_accept or time.monotonic()
            emit(f"{name}.posting_s", time.monotonic() - first_accept, 2)
            await client.quit()
            elapsed = await delivered(name, sink, members * posts, first_accept,
                                      daemon.peak_rss_mb)
    await sink.stop()
    return elapsed, sink.sample


async def fanout(kind: str, tmp: Path, members: int, posts: int, shared: bool,
                 repeat: int) -> None:
    """The fan-out and its raw limit, `repeat` times in turn (VERP, then shared copies):
    with --repeat the medians, since this machine's speed drifts from minute to minute."""
    name = f"fanout_{members}"
    shapes = [(name, "verp", True, 1)]
    if shared:
        shapes.append((f"{name}.noverp", "noverp", False, BATCH_RECIPIENTS))
    ratios: dict[str, list[float]] = {label: [] for label, *_ in shapes}
    for round_ in range(repeat):
        for label, folder, verp, per_transaction in shapes:
            where = tmp / f"{folder}{round_}"
            where.mkdir(parents=True)
            elapsed, sample = await by_daemon(kind, where, members, posts, label, verp=verp)
            ratios[label].append(await raw_limit(label, elapsed, sample, members, posts,
                                                 where, per_transaction=per_transaction))
    if repeat > 1:
        for label, found in ratios.items():
            emit(f"{label}.ratio_median", statistics.median(found), 2)
            emit(f"{label}.ratio_min", min(found), 2)
            emit(f"{label}.ratio_max", max(found), 2)


async def raw_limit(name: str, elapsed: float, sample: bytes, members: int, posts: int,
                    tmp: Path, per_transaction: int) -> float:
    """The same deliveries from a bare client, in the same transaction shape (one post's
    recipients `per_transaction` at a time, as the daemon batches them); the ratio."""
    want = members * posts
    raw_sink = Sink()
    await raw_sink.start()
    rcpts = [f"member{i}@example.net" for i in range(members)]
    one_post = [rcpts[i:i + per_transaction] for i in range(0, members, per_transaction)]
    raw_s = await raw_send_process(raw_sink.port, sample, one_post * posts, tmp,
                                   timeout=max(120.0, want / 50))
    await raw_sink.stop()
    if raw_sink.deliveries != want:
        raise BenchError(f"raw sink got {raw_sink.deliveries} of {want} deliveries")
    emit(f"{name}.raw_deliveries_per_s", want / raw_s)
    emit(f"{name}.raw_smtp_transactions", raw_sink.transactions)
    ratio = (want / elapsed) / (want / raw_s)
    emit(f"{name}.ratio", ratio, 2)
    return ratio


async def sign_with_dkim(config: Path, tmp: Path) -> None:
    """A key made by `mailbot dkim keygen`, named in the config's [dkim]."""
    key = tmp / "dkim.pem"
    await cli(config, "dkim", "keygen", "--selector", "bench", "--domain", "example.org",
              "--out", str(key), timeout=60)
    config.write_text(config.read_text() + f'\n[dkim]\nselector = "bench"\nkey_file = "{key}"\n')


async def delivered(name: str, sink: Sink, want: int, first_accept: float,
                    peak_rss_mb: Callable[[], float]) -> float:
    """Once `want` deliveries are in and settled, the fan-out's figures; its seconds from
    the first accepted post to the last delivery."""
    await wait_deliveries(sink, want)
    elapsed = sink.last - first_accept
    await wait_settle(sink, want)
    emit(f"{name}.deliveries", want)
    emit(f"{name}.deliveries_per_s", want / elapsed)
    emit(f"{name}.first_post_s", sink.done[message_id(sink.sample)] - first_accept, 2)
    emit(f"{name}.smtp_transactions", sink.transactions)
    emit(f"{name}.smtp_connections", sink.connections)
    emit(f"{name}.peak_rss_mb", peak_rss_mb())
    return elapsed


async def wait_deliveries(sink: Sink, want: int) -> None:
    seen, since = -1, time.monotonic()
    while sink.deliveries < want:
        if sink.deliveries != seen:
            seen, since = sink.deliveries, time.monotonic()
        elif time.monotonic() - since > STALL:
            raise BenchError(f"stalled at {seen} of {want} deliveries for {STALL:.0f}s")
        await asyncio.sleep(0.05)


async def wait_settle(sink: Sink, want: int) -> None:
    """A second more, then every (message, member) pair exactly once."""
    await asyncio.sleep(1.0)
    if sink.deliveries != want or len(sink.pairs) != want:
        raise BenchError(f"{sink.deliveries} deliveries, {len(sink.pairs)} distinct pairs, "
                         f"want {want} of each")


SIZES: tuple[int, ...] | None = None  # --members, else by --quick
POSTS: int | None = None  # --posts
SHARED = True  # --no-shared: VERP only
REPEAT = 1  # --repeat N: each fan-out and its raw limit N times in turn, and the medians


async def run(kind: str, quick: bool, tmp: Path) -> None:
    sizes = SIZES or ((200, 1000) if quick else (1000, 10000))
    posts = POSTS or (5 if quick else 50)
    for members in sizes:
        await fanout(kind, tmp / str(members), members, posts, SHARED, REPEAT)


def own_options() -> None:
    """--members N[,N…], --posts M, --no-shared and --repeat N, taken off argv before
    common.main."""
    global SIZES, POSTS, SHARED, REPEAT
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--members")
    parser.add_argument("--posts", type=int)
    parser.add_argument("--no-shared", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args, rest = parser.parse_known_args()
    if args.members:
        SIZES = tuple(int(n.replace("_", "")) for n in args.members.split(","))
    POSTS, SHARED, REPEAT = args.posts, not args.no_shared, max(1, args.repeat)
    sys.argv[1:] = rest


if __name__ == "__main__":
    own_options()
    main(run, limit=900 if "--quick" in sys.argv else 4 * 3600)
