"""Fuzzing intake and command handling: arbitrary bytes and mutated real messages.

Each input is handed to the intake exactly as the SMTP listener hands it over (after
DATA), for every kind of list address, then handled. Whatever the bytes: nothing raises,
every input is stored, nothing is left unhandled, and the sender gets at most one answer
(none at all when the message is automatic).
"""

import asyncio
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.core.clock import FakeClock
from mailbot.reading.message import author, automatic_kind, message_key, parse, parse_headers
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import Delivery, InboundMessage, OutboundMessage
from tests.helpers import ROOT, add_member, make_message, write_config
from tests.test_hostile import rfc5322_problems

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
@example(raw=b"From: Marie <marie@example.com>\r\nTo: sel@example.org\r\nSubject: Bonjour\r\n"
         b"Message-ID: <[79635931168.12620@example.com>\r\n\r\nUn message.\r\n",
         rcpt="sel@example.org", mail_from="marie@example.com")  # found: keyed two ways
@example(raw=b"From: =?windows-1252?q?J=E9r=F4me?= <jerome@example.net>\r\n"
         b"Subject: =?\x00tf-8?b?w6ljb2xl?=\r\nContent-Type: text/html; charset=windows-1252"
         b"\r\n\r\n<p>inscription \x96 merci</p>\r\n",
         rcpt="sel@example.org", mail_from="marie@example.com")  # found: a notice unwritable
@example(raw=b"Message-ID:\x82<4413@ims.example.org>\nFrom: a@b\nContent-Type: multipart/mixed;"
         b' boundary="XX"\n\n--XX\nContent-Type: text/plain; charset="iso-8859-1"\n\nhi\n'
         b"--XX--\n",
         rcpt="sel-owner@example.org", mail_from="jerome@example.net")  # found: keyed two ways
def test_mutated_real_messages_are_stored_and_handled(service: Service, raw: bytes, rcpt: str,
                                                      mail_from: str) -> None:
    check_one(service, raw, rcpt, mail_from)


def test_the_fuzz_inputs_include_real_bounces() -> None:
    assert len(REAL) > 6, "tests/data/bounces should hold the sample corpus"


# --- 10,000 generated messages through intake and the worker (issue 21) --------------------

FUZZ_COUNT = 10_000
FUZZ_SECONDS = 120  # "in CI time": the whole run, intake and worker, on SQLite, wall clock
CORPUS = sorted(p for p in (ROOT / "tests" / "data").rglob("*")
                if p.is_file() and p.suffix in (".eml", ".txt"))
SENDERS = ["marie@example.com", "bob@example.net", "alice@example.org", "", "x@example.com",
           "sel@example.org", "sel-bounces+0abc@example.org", "MAILER-DAEMON@mx.example.net"]
HOSTILE_HEADERS = [
    b"From: <<<@@@>>>\r\n", b"From: a@example.com, b@example.com\r\n", b"From: \r\n",
    b"From: Marie <marie@example.com>\r\nFrom: Bob <bob@example.net>\r\n",
    b"Subject: Vente\x00 de pain\r\n", b"Subject: R\xe9union \xe0 la f\xeate\r\n",
    b"Subject: " + b"x" * 3000 + b"\r\n", b"Date: \r\n", b"Date: yesterday\r\n",
    b"Authentication-Results: mx.example.org; dkim=pass header.d=example.com\r\n",
    b"X-Bare: a\rb\r\n", b"Auto-Submitted: auto-replied\r\n", b"List-Id: <sel.example.org>\r\n",
    b"Content-Type: multipart/mixed; boundary=\"zz\"\r\n",
    b"Content-Type: text/plain; charset=x-unknown\r\n", b"From: sel-request@example.org\r\n",
]


def generated(rng: random.Random, n: int, corpus: list[bytes]) -> bytes:
    """One message: a real one (or random bytes), maybe given hostile header lines, then
    mutated like `mutated()` does; most get a Message-ID of their own so they are 10,000
    different messages (the rest test that copies are stored once)."""
    data = bytearray(rng.choice(corpus) if rng.random() < 0.95 else rng.randbytes(
        rng.randint(0, 2000)))
    for _ in range(rng.choice((0, 0, 1, 2))):
        data[0:0] = rng.choice(HOSTILE_HEADERS)
    for _ in range(rng.choice((0, 0, 1, 3, 8))):
        at = rng.randint(0, max(0, len(data) - 1))
        op = rng.choice(("flip", "insert", "cut", "crlf", "cr", "nul", "long"))
        if op == "flip":
            if data:  # nothing to flip in an empty message
                data[at] = rng.randint(0, 255)
        elif op == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 20))
        elif op == "cut":
            del data[at:at + rng.randint(1, 200)]
        else:
            data[at:at] = {"crlf": b"\r\n", "cr": b"\r", "nul": b"\x00",
                           "long": b"y" * 1500}[op]
    if rng.random() < 0.97:
        data[0:0] = f"Message-ID: <fuzz-{n}@example.com>\r\n".encode()
    return bytes(data)


@pytest.fixture
def fuzz_service(tmp_path: Path) -> Iterator[Service]:
    config = load_config(write_config(tmp_path, f"sqlite:///{tmp_path}/fuzz.db",
                                      maildir=tmp_path / "out",
                                      server_extra='authserv_id = "mx.example.org"'))
    svc = Service(config, clock=FakeClock())
    db.upgrade(svc.db.engine)
    for email in ("marie@example.com", "bob@example.net"):
        asyncio.run(svc.db.run(add_member, "sel", email, "", svc.clock.now()))
    yield svc
    svc.close()


@pytest.mark.timeout(FUZZ_SECONDS * 4)  # past 2 × FUZZ_SECONDS, the assertion says by how much
def test_ten_thousand_generated_messages_are_stored_handled_and_send_nothing_broken(
        fuzz_service: Service) -> None:
    """Issue 21, item 6: no crash, every message stored once (handled, held or
    quarantined), and every message queued to go out is one a receiver accepts."""
    svc = fuzz_service
    rng = random.Random(21)
    corpus = REAL + [p.read_bytes() for p in CORPUS]
    arrivals = []
    for n in range(FUZZ_COUNT):
        rcpt = rng.choice(RCPTS)
        recipient = resolve(rcpt, svc.config.lists, svc.config.server.separator)
        assert recipient is not None
        arrivals.append((generated(rng, n, corpus), rng.choice(SENDERS), rcpt, recipient))
    expected = {(rcpt, message_key(parse_headers(raw), raw)) for raw, _, rcpt, _ in arrivals}

    async def run() -> None:
        for start in range(0, FUZZ_COUNT, 100):  # a hundred SMTP sessions at a time
            await asyncio.gather(*(svc.accept(raw, sender, [(rcpt, recipient)])
                                   for raw, sender, rcpt, recipient
                                   in arrivals[start:start + 100]))
        await svc.process_pending()

    began, cpu = time.monotonic(), time.process_time()
    asyncio.run(run())
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    print(f"fuzz: {FUZZ_COUNT} messages ({len(expected)} distinct) through intake and "
          f"worker in {elapsed:.1f} s of wall clock ({cpu:.1f} s of CPU; budget "
          f"{FUZZ_SECONDS} s of wall clock; load average {os.getloadavg()[0]:.1f})")

    def look(session: Any) -> tuple[set[tuple[str, str]], dict[str, int], list[bytes]]:
        stored = session.execute(select(InboundMessage.rcpt, InboundMessage.message_key,
                                         InboundMessage.status)).all()
        statuses: dict[str, int] = {}
        for row in stored:
            statuses[row[2]] = statuses.get(row[2], 0) + 1
        outgoing = list(session.scalars(select(OutboundMessage.raw)))
        return {(row[0], row[1]) for row in stored}, statuses, outgoing

    stored, statuses, outgoing = asyncio.run(svc.db.run(look))
    print(f"fuzz: stored {statuses}, {len(outgoing)} messages queued to go out")
    assert expected <= stored  # each message stored (a pass-on to -request adds a row)
    assert set(statuses) <= {"done", "held", "quarantined"}, statuses
    assert statuses.get("quarantined", 0) < FUZZ_COUNT // 100, statuses  # crashes are rare
    broken = [(problems, raw[:200]) for raw in outgoing
              if (problems := rfc5322_problems(raw))]
    assert broken == [], broken[:3]
    assert len(outgoing) > FUZZ_COUNT // 10  # the bot did answer and distribute
    # The budget is FUZZ_SECONDS of wall clock (printed above, with the CPU). Only twice
    # that fails here: a run several times slower is a regression, a busy machine is not.
    assert elapsed < 2 * FUZZ_SECONDS, (
        f"{elapsed:.0f} s of wall clock ({cpu:.0f} s of CPU) for {FUZZ_COUNT} messages")
