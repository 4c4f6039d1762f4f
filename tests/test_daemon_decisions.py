"""Proposals with real `mailbot serve` processes and a real clock (consent.period = 5s):
adopted after silence, contested by a reply, settled late after a restart, and settled
exactly once by two daemons sharing one PostgreSQL."""

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import Received, Sink, make_message, smtp_send
from tests.test_daemon import MEMBERS, Daemon, daemons, ok, seeded_list, wait_for

pytestmark = pytest.mark.slow

RULES = '[consent]\nperiod = "5s"\nreminder_before = "2s"\n'
PROPOSAL_ID = "<mower@example.com>"


def make_list(tmp_path: Path, database_url: str, sink_port: int, name: str = "config.toml",
              seed: bool = True) -> tuple[Path, int]:
    folder = tmp_path / name.removesuffix(".toml")
    folder.mkdir(exist_ok=True)
    return seeded_list(folder, database_url, sink_port, rules=RULES, seed=seed)


async def propose(port: int) -> None:
    raw = make_message(subject="[PROPOSITION] Achat d'une tondeuse", message_id=PROPOSAL_ID,
                       body="Une tondeuse pour le jardin partagé.\n")
    code, text = await smtp_send(port, raw)
    assert code == 250, text


def settled(sink: Sink, word: str) -> list[Received]:
    return [r for r in sink.received if r.message["List-Id"]
            and word in str(r.message["Subject"])]


async def assert_announced_once(sink: Sink, word: str, daemon: Daemon,
                                timeout: float = 20) -> list[Received]:
    """Each member gets exactly one announcement whose subject holds `word`."""
    deadline = time.monotonic() + timeout
    while len(settled(sink, word)) < len(MEMBERS):
        if time.monotonic() > deadline:
            subjects = [str(r.message["Subject"]) for r in sink.received]
            pytest.fail(f"no '{word}' for everyone after {timeout}s: {subjects}\n"
                        f"{daemon.text()}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)  # a second announcement would show up now
    found = settled(sink, word)
    assert sorted(r.rcpt_tos[0] for r in found) == sorted(e for e, _ in MEMBERS)
    return found


async def test_adopted_after_five_seconds_of_silence(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = make_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        await propose(port)
        await wait_for(lambda: len(settled(sink, "Rappel")) == len(MEMBERS), 15, "reminders")
        found = await assert_announced_once(sink, "adoptée :", daemon)
        assert "en retard" not in found[0].text()
        assert found[0].message["In-Reply-To"] == PROPOSAL_ID
    out = await ok(config, "proposals", "--all")
    assert "no. 1\tadopted\t" in out and "Achat d'une tondeuse" in out


async def test_an_objection_by_reply_makes_it_contested(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = make_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        await propose(port)
        objection = make_message(sender="bob@example.net", subject="Re: [sel] [PROPOSITION] x",
                                 body="OBJECTION : il faut d'abord un abri.\n",
                                 headers={"In-Reply-To": PROPOSAL_ID, "References": PROPOSAL_ID})
        code, _ = await smtp_send(port, objection, mail_from="bob@example.net")
        assert code == 250
        await assert_announced_once(sink, "contestée", daemon)
        assert settled(sink, "adoptée :") == []
        await wait_for(lambda: any("demande une discussion" in str(r.message["Subject"])
                                   for r in sink.to("alice@example.org")), 10, "moderator told")
    out = await ok(config, "proposals", "--all")
    assert "contested" in out and "objections 1" in out


async def test_a_deadline_passed_while_down_is_settled_late_on_start(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = make_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        first = await new().start()
        await propose(port)
        await wait_for(lambda: len(sink.received) >= len(MEMBERS), 10, "the proposal itself")
        first.signal(signal.SIGKILL)
        await first.wait(5)
        await asyncio.sleep(6)  # the deadline passes while nothing runs
        assert settled(sink, "adoptée :") == []
        second = await new().start()
        found = await assert_announced_once(sink, "adoptée :", second)
        assert "en retard" in found[0].text()


async def test_two_daemons_on_one_postgresql_settle_and_announce_once(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several daemons share a PostgreSQL database; SQLite allows one serve")
    config_a, port_a = make_list(tmp_path, database_url, sink.port, "a.toml")
    config_b, port_b = make_list(tmp_path, database_url, sink.port, "b.toml", seed=False)
    async with daemons(config_a, port_a, tmp_path / "a.log") as new_a, \
            daemons(config_b, port_b, tmp_path / "b.log") as new_b:
        a, b = await asyncio.gather(new_a().start(), new_b().start())
        await propose(port_a)
        await assert_announced_once(sink, "adoptée :", a)
        assert len(settled(sink, "Rappel")) == len(MEMBERS)  # reminded once too
        copies = [r for r in sink.received if r.message["Message-ID"] == PROPOSAL_ID]
        assert len(copies) == len(MEMBERS)  # and the proposal itself went out once
        assert b.proc is not None and b.proc.returncode is None
