"""Scale-out: several `mailbot serve` processes on one PostgreSQL share the work.

Posts come in through every daemon's own listener; any daemon may handle a stored message
and deliver its copies (`FOR UPDATE SKIP LOCKED` claims). One daemon is killed with -9 in
the middle: the others take its stored messages and its leased deliveries over. Every
member gets every post exactly once.
"""

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope

from tests.helpers import Sink, make_message
from tests.test_daemon import assert_delivered_once, daemons, post, seeded_list

pytestmark = pytest.mark.slow
POSTS = 24


class NamingSink(Sink):
    """Remembers the EHLO name of each connection: each daemon gives its own."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    async def handle_EHLO(self, server: Any, session: Any, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.names.append(hostname)
        return await super().handle_EHLO(server, session, envelope, hostname, responses)


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
        await assert_delivered_once(sink, ids, running[1])
        assert all(d.proc is not None and d.proc.returncode is None for d in running[1:])
        assert isinstance(sink, NamingSink)
        assert {"d1.example.org", "d2.example.org"} <= set(sink.names), "both delivered"
