"""What the listener reads before its 250, read the quick way: it must read exactly what
the full parsers read (aiosmtpd's address parser, the email package's header parser)."""

import asyncio
import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from mailbot.inbound.smtp import MailbotLMTP, MailbotSMTP
from mailbot.reading.message import message_key, parse, parse_headers, received_key

DATA = Path(__file__).parent / "data"

LOCALS = ["a", "sender0", "A+tag", "a.b", "a..b", ".a", "a.", '"a b"', "a b", "é", "o'neil",
          "x=y", "a(b)", "", "a\\b", "#!$%&*/=?^_`{|}~-"]
DOMAINS = ["b.c", "example.org", "EXAMPLE.org", "b", "b..c", "b.c.", "-b.c", "[1.2.3.4]", "é.c",
           "b_c.d", ""]
AROUND = [("<", ">"), (" <", ">"), ("\t<", ">"), ("<", ""), ("", ""), ("<@x:", ">"),
          ("<", ">>"), ("<", ">(c)")]
AFTER = ["", " ", "  ", " SIZE=100", "  SIZE=100 BODY=8BITMIME ", "\tX=1", "X=1",
         " (c) SIZE=1", " A=(b)", " SMTPUTF8"]


def _arguments() -> list[str]:
    addresses = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]
    return ["", "<>", "<> SIZE=1"] + [
        f"{left}{address}{right}{after}"
        for address, (left, right), after in itertools.product(addresses, AROUND, AFTER)]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """aiosmtpd's servers take a loop, and make one when given none: ours is closed."""
    made = asyncio.new_event_loop()
    yield made
    made.close()


@pytest.mark.parametrize("limit", [0, 6])
def test_envelope_addresses_read_as_aiosmtpd_reads_them(
        limit: int, loop: asyncio.AbstractEventLoop) -> None:
    ours, theirs = MailbotSMTP(object(), loop=loop), SMTP(object(), loop=loop)
    ours.local_part_limit = theirs.local_part_limit = limit
    arguments = _arguments()
    assert len(arguments) > 10_000
    differ = [a for a in arguments if _read(ours, a) != _read(theirs, a)]
    assert differ == []


def _read(server: SMTP, argument: str) -> object:
    """What `_getaddr` gives, or the error it raises (aiosmtpd's parser raises on some)."""
    try:
        return server._getaddr(argument)
    except Exception as exc:
        return type(exc)


def test_lmtp_reads_addresses_the_same_way(loop: asyncio.AbstractEventLoop) -> None:
    server = MailbotLMTP(object(), loop=loop)
    assert server._getaddr("<a.b@c.d> SIZE=5") == ("a.b@c.d", "SIZE=5")


def _messages() -> list[bytes]:
    crafted = [
        b"From: a@b\r\nMessage-ID: <x@y>\r\n\r\nbody",
        b"From: a@b\r\nmessage-id:   <x@y>  \r\nSubject: s\r\n\r\nbody",
        b"From: a@b\r\nbroken line\r\nMessage-ID: <x@y>\r\n\r\nbody",  # ends the header
        b"From a@b Mon Jan 1\r\nFrom: a@b\r\nMessage-ID: <x@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <x@y>\r\nMessage-ID: <z@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <x@y>\r\n <more>\r\n\r\nbody",  # folded
        b"From: a@b\r\nMessage-ID:\r\n <x@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <x@y> (comment)\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <=?utf-8?q?x?=@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: =?utf-8?q?=3Cx=40y=3E?=\r\n\r\nbody",
        b"From: a@b\r\n\r\nMessage-ID: <x@y>\r\n",  # in the body
        b"From: a@b\nMessage-ID: <x@y>\n\nbody",
        b"From: a@b\r\nSubject: caf\xc3\xa9\r\nMessage-ID: <x@y>\r\n\r\nbody",
        b"From: a@b\r\nX-Message-ID: <q@y>\r\nMessage-ID: <x@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <" + b"x" * 300 + b"@y>\r\n\r\nbody",
        b"From: a@b\r\nMessage-ID: <x@y>",
        b" leading\r\nMessage-ID: <x@y>\r\n\r\n",
        b"From : a@b\r\nMessage-ID: <x@y>\r\n\r\n",
        b"From: a@b\r\r\nMessage-ID: <x@y>\r\n\r\n",
        b"From: a@b\rMessage-ID: <x@y>\r\n\r\n",
        b"Message-ID: <caf\xc3\xa9@y>\r\n\r\n",
        b"Subject: no id at all\r\n\r\nbody",
        b"",
    ]
    return crafted + [path.read_bytes() for path in sorted(DATA.rglob("*.eml"))]


def test_received_key_is_the_message_key() -> None:
    messages = _messages()
    assert len(messages) > 400
    differ = [raw[:80] for raw in messages if received_key(raw) != message_key(
        parse_headers(raw), raw)]
    assert differ == []


@pytest.mark.parametrize(("written", "key"), [
    ("<x@example.org>", "<x@example.org>"),
    ("<[7963@example.com>", "<[7963@example.com>"),  # the email package's parser fails
    ("<a@b@c>", "<a@b@c>"),  # the parser reads "<a@b>"
    ("<a(b)@c>", "<a(b)@c>"),  # the parser reads "<a"
    ("x@example.org", "x@example.org"),  # no brackets: as the parser reads it
    ("<a b@c>", "<a"),  # a space: as the parser reads it
])
def test_a_message_id_in_brackets_is_its_key_as_written(written: str, key: str) -> None:
    raw = f"From: a@b\r\nMessage-ID: {written}\r\n\r\nbody".encode()
    assert message_key(parse_headers(raw), raw) == received_key(raw) == key


def test_received_key_is_the_message_key_for_any_message_id() -> None:
    """Message-IDs of every printable character, mostly those of real ones: read the
    quick way and by the parser, the same key (a fuzz test found `<[…>` read two ways)."""
    generated = random.Random(30)
    printable = [chr(c) for c in range(0x21, 0x7F)]
    differ = []
    for _ in range(20000):
        inside = "".join(generated.choice(printable if generated.random() < 0.2 else
                                          "abc123.-_@") for _ in range(generated.randrange(1, 20)))
        raw = f"From: a@b\r\nMessage-ID: <{inside}>\r\n\r\nbody".encode()
        if not received_key(raw) == message_key(parse_headers(raw), raw) == message_key(
                parse(raw), raw):
            differ.append(inside)
    assert differ == []


def test_an_8bit_message_id_is_keyed_alike_whatever_the_body_declares() -> None:
    """Raw 8-bit bytes in the Message-ID are read without the body's charset: intake reads
    the header alone, the worker the whole message (a fuzz test found the key differ when
    a part declared iso-8859-1)."""
    raw = (b"Message-ID:\x82<4413@ims.example.org>\nFrom: a@b\nContent-Type: multipart/mixed;"
           b' boundary="XX"\n\n--XX\nContent-Type: text/plain; charset="iso-8859-1"\n\nhi\n'
           b"--XX--\n")
    assert received_key(raw) == message_key(parse_headers(raw), raw) == message_key(
        parse(raw), raw) == "\u201a<4413@ims.example.org>"
