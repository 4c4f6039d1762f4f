"""Fuzzing intake and command handling: arbitrary bytes and mutated real messages.

Each input is handed to the intake exactly as the SMTP listener hands it over (after
DATA), for every kind of list address, then handled. Whatever the bytes: nothing raises,
every input is stored, nothing is left unhandled, and the sender gets at most one answer
(none at all when the message is automatic).
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.core.clock import FakeClock
from mailbot.reading.message import author, automatic_kind, message_key, parse
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import Delivery, InboundMessage, OutboundMessage
from tests.helpers import ROOT, add_member, make_message, write_config

SAMPLES = ROOT / "tests" / "data" / "bounces"
RCPTS = ["sel@example.org", "sel-request@example.org", "sel-owner@example.org",
         "sel-bounces@example.org", "sel-confirm+0123456789abcdef0123456789abcdef@example.org"]


def real_messages() -> list[bytes]:
    made = [
        make_message(subject="Bonjour", body="Un message.\n"),
        make_message(to="sel-request@example.org", body="aide\npayer Bob 1h30 pain\n"),
        make_message(subject="[PROPOSITION] Fête", body="Faisons une fête.\n"),
        make_message(subject="[OFFRE] Vélo", body="Catégorie : transport\nJe prête.\n"),
        make_message(subject="Re: [sel] Fête", body="OBJECTION trop tôt\n\n> cité\n",
                     headers={"In-Reply-To": "<x@example.com>"}),
        (b"From: =?windows-1252?q?J=E9r=F4me?= <jerome@example.net>\r\nSubject: "
         b"=?utf-8?b?w6ljb2xl?=\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n"
         b"<p>inscription \x96 merci</p>\r\n"),
    ]
    files = sorted(SAMPLES.glob("*.eml"))[:12] if SAMPLES.exists() else []
    return made + [f.read_bytes() for f in files]


REAL = real_messages()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a few bytes flipped, inserted or cut, or its halves swapped."""
    data = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["flip", "insert", "cut", "crlf"]))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 200))]
        else:
            data[at:at] = b"\r\n"
    return bytes(data)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    config = load_config(write_config(tmp, f"sqlite:///{tmp}/fuzz.db", maildir=tmp / "out"))
    svc = Service(config, clock=FakeClock())
    db.upgrade(svc.db.engine)
    for email in ("marie@example.com", "bob@example.net"):
        asyncio.run(svc.db.run(add_member, "sel", email, "", svc.clock.now()))
    yield svc
    svc.close()


def answers_to(session: object, inbound_id: int, sender: str) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return session.scalar(
        select(func.count(Delivery.id))
        .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
        .where(OutboundMessage.inbound_id == inbound_id, Delivery.rcpt == sender,
               OutboundMessage.purpose != "post")) or 0


def check_one(svc: Service, raw: bytes, rcpt: str, mail_from: str) -> None:
    recipient = resolve(rcpt, svc.config.lists, svc.config.server.separator)
    assert recipient is not None

    async def run() -> None:
        await svc.accept(raw, mail_from, [(rcpt, recipient)])
        await svc.process_pending()

    asyncio.run(run())

    def look(session: object) -> None:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        assert session.scalar(select(func.count()).where(InboundMessage.status == "new")) == 0
        msg = parse(raw)
        row = session.scalars(select(InboundMessage).where(
            InboundMessage.rcpt == rcpt.lower(),
            InboundMessage.message_key == message_key(msg, raw))).one()  # stored, once
        assert row.status in ("done", "held"), row.error  # handled, not quarantined
        sender, _ = author(msg, mail_from)
        answered = answers_to(session, row.id, sender)
        limit = 0 if automatic_kind(msg, mail_from, "sel.example.org") else 1
        if row.raw == raw and row.mail_from == mail_from:  # not an earlier copy
            assert answered <= limit, (answered, row.kind, row.outcome)

    asyncio.run(svc.db.run(look))


FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(raw=st.binary(max_size=3000), rcpt=st.sampled_from(RCPTS),
       mail_from=st.sampled_from(["marie@example.com", "", "stranger@example.org"]))
def test_arbitrary_bytes_are_stored_and_handled(service: Service, raw: bytes, rcpt: str,
                                                mail_from: str) -> None:
    check_one(service, raw, rcpt, mail_from)


@FUZZ
@given(raw=mutated(), rcpt=st.sampled_from(RCPTS),
       mail_from=st.sampled_from(["marie@example.com", "", "jerome@example.net"]))
def test_mutated_real_messages_are_stored_and_handled(service: Service, raw: bytes, rcpt: str,
                                                      mail_from: str) -> None:
    check_one(service, raw, rcpt, mail_from)


def test_the_fuzz_inputs_include_real_bounces() -> None:
    assert len(REAL) > 6, "tests/data/bounces should hold the sample corpus"
