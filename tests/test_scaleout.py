"""Scale-out: several `mailbot serve` processes on one PostgreSQL share the work.

Posts come in through every daemon's own listener; any daemon may handle a stored message
and deliver its copies (`FOR UPDATE SKIP LOCKED` claims). One daemon is killed with -9 in
the middle: the others take its stored messages and its leased deliveries over. Every member gets
every post; a copy arrives twice only when the killed daemon had it accepted by the
smarthost and died before recording so (SMTP leaves no way to ask), and then only a copy
of a transaction it had in flight: at most one per connection (outbound.max_connections).
"""

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope

from tests.helpers import Sink, make_message
from tests.test_daemon import SETTLE, daemons, expected, post, seeded_list

pytestmark = pytest.mark.slow
POSTS = 24
MAX_CONNECTIONS = 4  # outbound.max_connections in write_config: what one daemon has in flight


class NamingSink(Sink):
    """Remembers the EHLO name of each connection: each daemon gives its own."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.copies: list[tuple[str, str, str]] = []  # (Message-ID, rcpt, sender's EHLO name)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.names.append(hostname)
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        mid = str(self.received[-1].message["Message-ID"])
        self.copies.extend((mid, rcpt, session.host_name) for rcpt in envelope.rcpt_tos)
        return answer

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((mid, rcpt) for mid, rcpt, _ in self.copies)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    server = NamingSink()
    await server.start()
    yield server
    await server.stop()


async def test_three_daemons_share_the_work_and_survive_a_kill_9(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several daemons share a PostgreSQL database; SQLite allows one serve")
    setups = []
    for i in range(3):
        folder = tmp_path / f"d{i}"
        folder.mkdir()
        config, port = seeded_list(folder, database_url, sink.port, seed=i == 0)
        config.write_text(config.read_text().replace('hostname = "lists.example.org"',
                                                     f'hostname = "d{i}.example.org"'))
        setups.append((config, port))
    async with daemons(*setups[0], tmp_path / "d0.log") as new0, \
            daemons(*setups[1], tmp_path / "d1.log") as new1, \
            daemons(*setups[2], tmp_path / "d2.log") as new2:
        running = await asyncio.gather(new0().start(), new1().start(), new2().start())
        ids = [f"<scale-{n}@example.com>" for n in range(POSTS)]
        for n, mid in enumerate(ids):
            port = setups[n % 3][1] if n < POSTS // 2 else setups[1 + n % 2][1]
            code, text = await post(port, make_message(message_id=mid, subject=f"n°{n}"))
            assert code == 250, text
            if n == POSTS // 2 - 1:
                running[0].signal(signal.SIGKILL)  # mid-stream: the others carry on
        assert isinstance(sink, NamingSink)
        want = set(expected(ids))
        deadline = time.monotonic() + 15
        while not want <= set(sink.counts()):
            if time.monotonic() > deadline:
                pytest.fail(f"missing after 15s: {want - set(sink.counts())}\n--- daemon "
                            f"logs: {[str(tmp_path / f'd{i}.log') for i in range(3)]}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(SETTLE)  # a duplicate would show up now
        assert all(d.proc is not None and d.proc.returncode is None for d in running[1:])
        assert {"d1.example.org", "d2.example.org"} <= set(sink.names), "both delivered"
    counts = sink.counts()
    assert set(counts) == want
    twice = {pair for pair, n in counts.items() if n > 1}
    print(f"\n{len(twice)} copy(ies) sent twice after the kill -9, of {sum(counts.values())}")
    assert all(counts[pair] == 2 for pair in twice), counts
    senders = {pair: [name for mid, rcpt, name in sink.copies if (mid, rcpt) == pair]
               for pair in twice}
    # the first copy came from the daemon that was killed, the second from a survivor
    assert all(names[0] == "d0.example.org" != names[1] for names in senders.values()), senders
    assert len(twice) <= MAX_CONNECTIONS  # one VERP copy per transaction, one per connection
