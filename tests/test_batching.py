"""Batching RCPTs per domain when VERP is off; one RCPT per transaction when it is on."""

from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import Config, load_config
from mailbot.outbound.batching import build_batches
from mailbot.storage.deliveries import Job
from mailbot.storage.models import BounceEvent
from tests.e2e import Driver
from tests.helpers import Sink, make_message, write_config


def job(n: int, rcpt: str, envelope: str = "b@l", outbound: int = 1) -> Job:
    return Job(n, envelope, rcpt, b"", outbound)


def test_batches_group_one_message_by_envelope_and_domain_up_to_the_limit() -> None:
    jobs = [job(1, "a@x.org"), job(2, "b@y.org"), job(3, "c@X.org"), job(4, "d@x.org"),
            job(5, "e@x.org", envelope="other@l"), job(6, "f@x.org", outbound=2)]
    batches = build_batches(jobs, limit=2)
    assert [[j.delivery_id for j in b] for b in batches] == [[1, 3], [2], [4], [5], [6]]


def test_one_job_per_batch_when_every_envelope_differs() -> None:
    jobs = [job(n, f"m{n}@x.org", envelope=f"b+{n}@l") for n in range(5)]
    assert [len(b) for b in build_batches(jobs, limit=50)] == [1] * 5


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie")] + [
        (f"m{n}@example.net", f"M{n}") for n in range(5)] + [("z@other.example", "Z")]


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, request: pytest.FixtureRequest
           ) -> Config:
    verp = getattr(request, "param", False)
    return load_config(write_config(
        tmp_path, database_url, sink_port=sink.port,
        outbound_extra=f"verp = {'true' if verp else 'false'}\nbatch_recipients = 3"))


async def test_without_verp_a_post_takes_one_transaction_per_domain_and_batch(
        bot: Driver) -> None:
    sink = bot.sink
    sink.transactions = 0
    assert await bot.send(make_message()) == 250
    # example.com: 1, example.net: 5 in batches of 3 → 2, other.example: 1
    assert sink.transactions == 4
    assert sorted(r for got in sink.received for r in got.rcpt_tos) == sorted(
        ["marie@example.com", "z@other.example"] + [f"m{n}@example.net" for n in range(5)])
    assert {r.mail_from for r in sink.received} == {"sel-bounces@example.org"}


async def test_a_refused_recipient_in_a_batch_is_a_bounce_the_others_are_delivered(
        bot: Driver) -> None:
    sink = bot.sink
    sink.dead.add("m1@example.net")
    assert await bot.send(make_message()) == 250
    delivered = {r for got in sink.received for r in got.rcpt_tos}
    assert "m1@example.net" not in delivered and "m0@example.net" in delivered
    assert len(delivered) == 6
    events = await bot.service.db.run(lambda s: s.scalars(select(BounceEvent)).all())
    assert [(e.email, e.source) for e in events] == [("m1@example.net", "smtp")]


@pytest.mark.parametrize("config", [True], indirect=True)
async def test_with_verp_every_copy_has_its_own_envelope(bot: Driver) -> None:
    sink = bot.sink
    sink.transactions = 0
    assert await bot.send(make_message()) == 250
    assert sink.transactions == 7
    assert all(r.mail_from.startswith("sel-bounces+") for r in sink.received)
