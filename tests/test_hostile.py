"""Hostile and broken mail at the door (issue 21), over SMTP (and LMTP) on SQLite and
PostgreSQL: forged Authentication-Results, mail without a usable From, confirmations from
another mailbox, mail from the bot's own addresses, control characters and raw 8-bit
headers."""

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.config import Config, load_config, trust_warnings
from mailbot.core.clock import FakeClock
from mailbot.reading.authenticity import authserv_id_of, keep_trusted_results
from mailbot.reading.message import header, parse, usable_from
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import Hold, InboundMessage
from tests.e2e import Driver
from tests.helpers import Received, Sink, add_member, balance, make_message, write_config
from tests.test_lmtp import lmtp_conversation

MX = "mx.example.org"
PROOF = f"{MX}; dkim=pass header.d=example.com"


@pytest.fixture
def relays() -> str:
    """`server.trusted_relays` of the module's config; overridden by parametrize."""
    return "[]"


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str, relays: str) -> Config:
    return load_config(write_config(
        tmp_path, database_url, sink_port=sink.port, rules=rules,
        moderators=("alice@example.org", "carol@example.org"),
        server_extra=f'authserv_id = "{MX}"\ntrusted_relays = {relays}'))


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob")]


def rfc5322_problems(raw: bytes) -> list[str]:
    """What a receiver would refuse in a message we sent (RFC 5322 §2.1.1, §2.2, §3.6)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")
             if line and line[:1] not in (b" ", b"\t")]
    problems = [f"{names.count(n)} {n.decode()}" for n in (b"from", b"date", b"message-id")
                if names.count(n) != 1]
    if b"\x00" in raw:
        problems.append("NUL")
    if b"\r" in raw.replace(b"\r\n", b""):
        problems.append("bare CR")
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        problems.append("line over 998 octets")
    if any(c < 32 and c != 9 for c in head.replace(b"\r\n", b"")):
        problems.append("control character in the header")
    return problems


def assert_all_conform(received: list[Received]) -> None:
    for r in received:
        assert rfc5322_problems(r.raw) == [], (r.rcpt_tos, r.raw[:300])


def inbound_rows(session: Any) -> list[InboundMessage]:
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


async def rows(bot: Driver) -> list[InboundMessage]:
    found: list[InboundMessage] = await bot.service.db.run(
        lambda s: [(r.id, r.kind, r.status, r.outcome, r.raw) for r in inbound_rows(s)])
    return found


async def holds(bot: Driver) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = await bot.service.db.run(
        lambda s: [(h.reason, h.status) for h in s.scalars(select(Hold))])
    return found


async def command(bot: Driver, text: str, *, sender: str = "marie@example.com",
                  results: str = "", mail_from: str | None = None) -> list[EmailMessage]:
    bot.sink.clear()
    raw = make_message(sender=sender, to="sel-request@example.org", body=text)
    if results:
        raw = f"Authentication-Results: {results}\r\n".encode() + raw
    assert await bot.send(raw, mail_from=mail_from or sender,
                          to="sel-request@example.org") == 250
    assert_all_conform(bot.sink.received)
    return [r.message for r in bot.sink.received]


async def points(bot: Driver, email: str) -> int:
    found: int = await bot.service.db.run(balance, "sel", email)
    return found


# --- 1. Authentication-Results only from our own MTA ----------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (f"{MX}; dkim=pass", MX), (f" {MX.upper()} 1; dmarc=pass", MX),
    (f"(our mx) {MX};none", MX), ("", ""), ("other.example; spf=pass", "other.example")])
def test_the_authserv_id_of_a_header(value: str, expected: str) -> None:
    assert authserv_id_of(value) == expected


RESULTS = (f"Authentication-Results: {MX}; dkim=fail\r\n"
           "Authentication-Results: other.example; dkim=pass\r\n"
           f"authentication-results: {MX.upper()};\r\n dkim=pass header.d=example.com\r\n")


def test_headers_with_our_authserv_id_are_kept_only_on_top_and_only_when_trusted() -> None:
    raw = RESULTS.encode() + make_message()
    trusted = keep_trusted_results(raw, MX, trusted=True)
    untrusted = keep_trusted_results(raw, MX, trusted=False)
    assert trusted == raw.replace(f"authentication-results: {MX.upper()};\r\n dkim=pass "
                                  "header.d=example.com\r\n".encode(), b"")
    assert [str(v) for v in parse(untrusted).get_all("Authentication-Results") or []] == [
        "other.example; dkim=pass"]
    assert untrusted.endswith(make_message().split(b"\r\n\r\n", 1)[1])  # body untouched
    assert keep_trusted_results(raw, "", trusted=False) == raw  # no authserv_id: nothing read


async def test_a_forged_verdict_sent_straight_to_the_listener_proves_nothing(
        bot: Driver) -> None:
    sent = await command(bot, "payer Bob 1h jardinage", results=PROOF)
    assert await points(bot, "bob@example.net") == 0
    assert len(sent) == 1 and "sel-confirm+" in str(sent[0]["Reply-To"])
    await command(bot, "supprimer bob@example.net", sender="alice@example.org",
                  results=f"{MX}; dmarc=pass header.from=example.org")
    assert await bot.member("bob@example.net") is not None
    stored = [raw for *_, raw in await rows(bot)]
    assert stored and all(MX.encode() not in raw for raw in stored)  # removed at the door


@pytest.mark.parametrize("relays", ['["127.0.0.1"]'])
async def test_a_trusted_relay_is_believed_on_its_topmost_verdict_only(bot: Driver) -> None:
    await command(bot, "payer Bob 1h", results=PROOF)
    assert await points(bot, "bob@example.net") == 60
    # our MTA said fail on top; a "pass" with our name below it is forged, and removed
    raw = (f"Authentication-Results: {MX}; dkim=fail header.d=example.com\r\n"
           f"Authentication-Results: {PROOF}\r\n").encode() + make_message(
        to="sel-request@example.org", body="payer Bob 1h")
    assert await bot.send(raw, to="sel-request@example.org") == 250
    assert await points(bot, "bob@example.net") == 60
    last = (await rows(bot))[-1][4]
    assert last.count(MX.encode()) == 1 and b"dkim=fail" in last


@pytest.fixture
async def lmtp_bot(tmp_path: Path, database_url: str, sink: Sink,
                   clock: FakeClock) -> AsyncIterator[tuple[Service, int]]:
    path = write_config(tmp_path, database_url, sink_port=sink.port, listen="",
                        lmtp_listen="127.0.0.1:0", server_extra=f'authserv_id = "{MX}"')
    service = Service(load_config(path), clock=clock)
    db.upgrade(service.db.engine)
    for email, name in (("bob@example.net", "Bob"), ("marie@example.com", "Marie")):
        await service.db.run(add_member, "sel", email, name, clock.now())
    async with service.listening() as ports:
        yield service, ports["lmtp"]
    service.close()


async def test_lmtp_is_our_mta_its_topmost_verdict_counts(
        lmtp_bot: tuple[Service, int]) -> None:
    service, port = lmtp_bot
    pay = make_message(sender="bob@example.net", to="sel-request@example.org",
                       body="payer Marie 30")
    forged_below = (f"Authentication-Results: {MX}; dkim=fail\r\n"
                    f"Authentication-Results: {PROOF.replace('example.com', 'example.net')}"
                    "\r\n").encode()
    await lmtp_conversation(port, ["sel-request@example.org"], forged_below + pay)
    await service.drain()
    assert await service.db.run(balance, "sel", "marie@example.com") == 0
    proof = f"Authentication-Results: {MX}; dkim=pass header.d=example.net\r\n".encode()
    await lmtp_conversation(port, ["sel-request@example.org"],
                            proof + pay.replace(b"Message-ID: <", b"Message-ID: <2"))
    await service.drain()
    assert await service.db.run(balance, "sel", "marie@example.com") == 30


@pytest.mark.parametrize(("listen", "relays", "warned"), [
    ("0.0.0.0:25", "[]", True), ("0.0.0.0:25", '["10.0.0.5"]', True),
    ("127.0.0.1:8025", "[]", True), ("127.0.0.1:8025", '["127.0.0.1"]', False),
    ("localhost:8025", '["127.0.0.1", "::1"]', False), ("", "[]", False),
])
def test_check_warns_when_untrusted_peers_reach_the_smtp_listener(
        tmp_path: Path, listen: str, relays: str, warned: bool) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out",
                        listen=listen, lmtp_listen="127.0.0.1:8024",
                        server_extra=f'authserv_id = "{MX}"\ntrusted_relays = {relays}')
    warnings = trust_warnings(load_config(path).server)
    assert bool(warnings) is warned and all("trusted_relays" in w for w in warnings)
    quiet = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out",
                         listen="0.0.0.0:25")
    assert trust_warnings(load_config(quiet).server) == []  # no authserv_id: nothing read


def test_check_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mailbot.cli import main

    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out",
                        listen="0.0.0.0:2525", server_extra=f'authserv_id = "{MX}"')
    assert main(["-c", str(path), "check"]) == 0
    out = capsys.readouterr().out
    assert "warning: server.authserv_id is set and the SMTP listener on 0.0.0.0:2525" in out


def test_trusted_relays_must_be_addresses(tmp_path: Path) -> None:
    from mailbot.core.errors import ConfigError

    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out",
                        server_extra='trusted_relays = ["mx.example.org"]')
    with pytest.raises(ConfigError, match=r"server\.trusted_relays"):
        load_config(path)


# --- 2. No usable From: never distributed; what goes out has one From, a Date, an ID -------

NO_FROM = {
    "missing": b"",
    "unparseable": b"From: <<<@@@>>>\r\n",
    "two fields": b"From: Marie <marie@example.com>\r\nFrom: Bob <bob@example.net>\r\n",
    "two people": b"From: marie@example.com, bob@example.net\r\n",
}


def without_from(from_lines: bytes, *, to: str = "sel@example.org", body: str = "Salut") -> bytes:
    return from_lines + (f"To: {to}\r\nSubject: Sans expediteur\r\n"
                         "Message-ID: <nofrom@example.com>\r\n\r\n"
                         f"{body}\r\n").encode()


@pytest.mark.parametrize("case", list(NO_FROM))
async def test_a_post_without_a_usable_from_is_held_never_distributed(
        bot: Driver, case: str) -> None:
    assert await bot.send(without_from(NO_FROM[case])) == 250
    assert await holds(bot) == [("no-from", "pending")]
    assert [r for r in bot.sink.received if r.message["List-Id"]] == []
    notice = bot.sink.to("alice@example.org")[0]
    assert "From" in notice.text() and "marie@example.com" in notice.text()
    told = bot.sink.to("marie@example.com")  # the member whose envelope it came in
    assert len(told) == 1 and "adresse d'expéditeur" in told[0].text()
    assert_all_conform(bot.sink.received)


async def test_an_approved_post_without_from_goes_out_with_one_from_and_a_date(
        bot: Driver) -> None:
    assert await bot.send(without_from(NO_FROM["unparseable"])) == 250
    notice = bot.sink.to("alice@example.org")[0]
    await bot.reply_to(notice, "approuver", sender="alice@example.org")
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert sorted(c.rcpt_tos[0] for c in copies) == ["bob@example.net", "marie@example.com"]
    assert_all_conform(copies)
    assert "marie@example.com" in str(copies[0].message["From"])


async def test_a_strangers_envelope_without_from_gets_no_answer(bot: Driver) -> None:
    for to in ("sel@example.org", "sel-request@example.org"):
        bot.sink.clear()
        raw = without_from(b"", to=to, body="aide").replace(b"nofrom", to[:7].encode())
        assert await bot.send(raw, mail_from="stranger@example.com", to=to) == 250
        assert bot.sink.to("stranger@example.com") == []
    outcomes = [(kind, status, outcome) for _, kind, status, outcome, _ in await rows(bot)]
    assert outcomes[0][:2] == ("post", "held")
    assert outcomes[1] == ("command", "done", "ignored: no usable From, and no member's envelope")


async def test_a_members_command_without_from_is_answered_to_the_envelope(
        bot: Driver) -> None:
    raw = without_from(NO_FROM["unparseable"], to="sel-request@example.org", body="aide")
    assert await bot.send(raw, to="sel-request@example.org") == 250
    replies = bot.sink.to("marie@example.com")
    assert len(replies) == 1 and "quel est mon solde" in replies[0].text()
    assert_all_conform(bot.sink.received)


async def test_a_forward_to_the_owners_without_from_or_date_gets_them(bot: Driver) -> None:
    raw = b"To: sel-owner@example.org\r\nSubject: help\r\n\r\nbonjour\r\n"
    assert await bot.send(raw, mail_from="x@example.com", to="sel-owner@example.org") == 250
    forwarded = bot.sink.to("alice@example.org")
    assert len(forwarded) == 1 and forwarded[0].message["From"] == "x@example.com"
    assert_all_conform(forwarded)


# --- 3. A confirmation only from the mailbox it was sent to ---------------------------------

def confirm_address(received: Received) -> str:
    address = str(received.message["Reply-To"])
    assert "sel-confirm+" in address
    return address


async def test_another_member_cannot_confirm_a_payment_the_payer_is_asked_again(
        bot: Driver) -> None:
    asked = await bot.command("payer Bob 1h jardinage")
    old = confirm_address(asked)
    await bot.reply_to(asked, "oui", sender="bob@example.net")
    assert await points(bot, "bob@example.net") == 0
    told = bot.sink.to("bob@example.net")
    assert len(told) == 1 and "autre adresse" in told[0].text()
    assert "jardinage" not in told[0].text()  # what it was for stays private
    fresh = bot.sink.to("marie@example.com")
    assert len(fresh) == 1 and "bob@example.net" in fresh[0].text()
    assert "60 points" in fresh[0].text() and confirm_address(fresh[0]) != old
    await bot.reply_to(asked, "oui", sender="marie@example.com")  # the old token is spent
    assert await points(bot, "bob@example.net") == 0
    await bot.reply_to(fresh[0], "oui", sender="marie@example.com")
    assert await points(bot, "bob@example.net") == 60
    assert_all_conform(bot.sink.received)


async def test_the_address_is_compared_without_case(bot: Driver) -> None:
    asked = await bot.command("payer Bob 30")
    await bot.reply_to(asked, "oui", sender="Marie@EXAMPLE.com")
    assert await points(bot, "bob@example.net") == 30


async def test_an_outsider_cannot_confirm_a_members_leave(bot: Driver) -> None:
    asked = await bot.command("quitter", sender="bob@example.net")
    await bot.reply_to(asked, "oui", sender="outsider@example.org")
    assert await bot.member("bob@example.net") is not None
    assert len(bot.sink.to("outsider@example.org")) == 1
    again = bot.sink.to("bob@example.net")
    assert len(again) == 1
    await bot.reply_to(again[0], "oui", sender="bob@example.net")
    assert await bot.member("bob@example.net") is None


async def test_a_moderators_add_is_confirmed_by_a_moderator_only(bot: Driver) -> None:
    asked = await bot.command("ajouter paul@example.org Paul", sender="alice@example.org")
    await bot.reply_to(asked, "oui", sender="outsider@example.org")
    assert await bot.member("paul@example.org") is None
    await bot.reply_to(bot.sink.to("alice@example.org")[0], "oui", sender="carol@example.org")
    assert await bot.member("paul@example.org") is not None  # another moderator may


# --- 4. The bot's own addresses: a loop, stored and dropped ---------------------------------

@pytest.mark.parametrize(("sender", "to", "body"), [
    ("sel-request@example.org", "sel-request@example.org", "help"),
    ("sel-bounces@example.org", "sel-request@example.org", "aide"),
    ("sel@example.org", "sel@example.org", "Bonjour"),
    ("sel-owner@example.org", "sel@example.org", "Bonjour"),
    ("SEL-Confirm@Example.org", "sel-request@example.org", "aide"),
    ("sel-bounces+abc@example.org", "sel-owner@example.org", "x"),
])
async def test_mail_from_our_own_addresses_is_a_loop(bot: Driver, sender: str, to: str,
                                                     body: str) -> None:
    raw = make_message(sender=sender, to=to, body=body, name="")
    assert await bot.send(raw, mail_from=sender, to=to) == 250
    assert bot.sink.received == []
    assert await holds(bot) == []
    [(_, kind, status, outcome, _)] = await rows(bot)
    assert (kind, status) == ("loop", "done") and "own addresses" in str(outcome)


async def test_our_envelope_with_a_members_from_is_a_loop_too(bot: Driver) -> None:
    assert await bot.send(make_message(), mail_from="sel-bounces+x1@example.org") == 250
    assert bot.sink.received == [] and (await rows(bot))[0][1] == "loop"


# --- 5. Headers the bot writes: no control characters, 8-bit read right ---------------------

def raw_post(subject: bytes, *, charset: bytes | None = None, sender: str = "marie@example.com",
             name: bytes = b"Marie") -> bytes:
    content = b"Content-Type: text/plain; charset=" + charset + b"\r\n" if charset else b""
    return (b"From: " + name + b" <" + sender.encode() + b">\r\nTo: sel@example.org\r\n"
            b"Subject: " + subject + b"\r\nMessage-ID: <" + str(hash(subject)).encode() +
            b"@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n" + content +
            b"\r\nCorps\r\n")


def subjects(received: list[Received]) -> set[str]:
    return {str(r.message["Subject"]) for r in received}


async def test_a_nul_in_a_subject_never_goes_out(bot: Driver) -> None:
    assert await bot.send(raw_post(b"Vente\x00 de\x1b[31m pain\x07")) == 250
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert len(copies) == 2 and subjects(copies) == {"[sel] Vente de[31m pain"}
    assert_all_conform(bot.sink.received)
    bot.sink.clear()  # the same in a notice to the moderators (a stranger's post is held)
    held = raw_post(b"Pub\x00lic", sender="x@example.com", name=b"X\x00Y")
    assert await bot.send(held, mail_from="x@example.com") == 250
    assert_all_conform(bot.sink.received)
    notice = bot.sink.to("alice@example.org")[0]
    assert "Publ" in str(notice.message["Subject"]) and "\x00" not in notice.text()


@pytest.mark.parametrize(("subject", "charset", "expected"), [
    (b"R\xe9union \xe0 la f\xeate", b"iso-8859-1", "[sel] Réunion à la fête"),
    (b"R\xe9union \xe0 la f\xeate \x93ok\x94", None, "[sel] Réunion à la fête “ok”"),
    ("Réunion à la fête".encode(), b"iso-8859-1", "[sel] Réunion à la fête"),  # UTF-8 first
    (b"\xca\xd7\xb7\xa2", b"koi8-r", "[sel] " + b"\xca\xd7\xb7\xa2".decode("koi8-r")),
])
async def test_a_raw_8bit_subject_keeps_its_accents_with_the_prefix(
        bot: Driver, subject: bytes, charset: bytes | None, expected: str) -> None:
    assert await bot.send(raw_post(subject, charset=charset)) == 250
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert len(copies) == 2 and subjects(copies) == {expected}
    assert all(b"\xef\xbf\xbd" not in c.raw for c in copies)  # no U+FFFD
    assert_all_conform(copies)


def test_header_reads_raw_8bit_in_order_utf8_body_charset_windows_1252() -> None:
    def subject_of(raw: bytes) -> str:
        return header(parse(raw), "Subject")

    assert subject_of(raw_post(b"caf\xc3\xa9")) == "café"
    assert subject_of(raw_post(b"caf\xe9", charset=b"iso-8859-15")) == "café"
    assert subject_of(raw_post(b"caf\xe9 \x80")) == "café €"
    assert subject_of(raw_post(b"a\x00b\x07c\x7f")) == "abc"
    assert usable_from(parse(raw_post(b"x", name=b"J\xe9r\xf4me"))) == (
        "marie@example.com", "Jérôme")


@pytest.mark.parametrize("name", ["Marie", "M" * 2000])
def test_a_from_read_again_names_the_same_author_and_a_long_one_is_not_kept(
        name: str) -> None:
    """The author a From value names is kept for the next message with it, but not a value
    longer than a header line may be (a megabyte-long From would stay in memory)."""
    from mailbot.reading import message

    raw = f"From: {name} <Marie@Example.com>\nSubject: x\n\nx\n".encode()
    message._remembered_author.cache_clear()
    firsts = [usable_from(parse(raw)) for _ in range(2)]
    assert firsts == [("marie@example.com", name)] * 2
    assert message._remembered_author.cache_info().currsize == (len(name) < 998)
    assert usable_from(parse(raw.replace(b"Subject", b"From: b@example.org\nSubject"))) is None


# --- A long message holds up nobody ---------------------------------------------------------

def test_the_reader_reads_only_the_start_of_a_long_message(tmp_path: Path) -> None:
    """A 2 MB post took the request reader some 20 s of CPU, every message behind it
    waiting: it reads the first READ_AT_MOST characters, where requests are said."""
    from mailbot.handling.known import READ_AT_MOST, said_of

    config = load_config(write_config(tmp_path, f"sqlite:///{tmp_path}/x.db",
                                      maildir=tmp_path / "out"))
    msg = parse(make_message(body="payer Bob 1h\n" + "Compte rendu.\n" * 150_000))
    said = said_of(msg, "request", config.lists[0], "marie@example.com", None)
    assert said.text.startswith("payer Bob 1h\r\n") and len(said.text) == READ_AT_MOST


async def test_a_failing_message_without_from_tells_only_a_members_envelope(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    import mailbot.handling.dispatch

    def broken(*args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setitem(mailbot.handling.dispatch.HANDLERS, "request", broken)
    for envelope in ("stranger@example.com", "marie@example.com"):
        raw = without_from(b"", to="sel-request@example.org").replace(
            b"nofrom", envelope.split("@")[0].encode())
        assert await bot.send(raw, mail_from=envelope, to="sel-request@example.org") == 250
    assert [kind for _, kind, status, _, _ in await rows(bot) if status == "quarantined"] \
        == [None, None]
    assert bot.sink.to("stranger@example.com") == []
    assert len(bot.sink.to("marie@example.com")) == 1  # a member's envelope is told
