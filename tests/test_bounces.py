"""Bounces: scoring, suspension with a probe, resumption; DSNs, SMTP refusals, vacation.

Pure scoring tables first, then the whole path through the real listener, a real sink and
both databases, with a fake clock moved day by day.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from mailbot.bounces.scoring import after_probe_bounced, probe_step, score
from mailbot.config.rules import Bounces
from mailbot.reading.bounces import diagnostic
from mailbot.storage.models import BounceEvent, Delivery, Member, OutboundMessage
from tests.e2e import Driver
from tests.helpers import Received, make_message
from tests.test_bounce_reading import DATA, EXPECTED

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RULES = Bounces()


def at(days: float, permanent: bool = True) -> tuple[datetime, bool]:
    return T0 + timedelta(days=days), permanent


@pytest.mark.parametrize(("events", "cleared", "rules", "expected"), [
    ([], None, RULES, 0),
    ([at(-2), at(-1), at(0)], None, RULES, 3),
    ([at(-0.2), at(-0.1), at(0)], None, RULES, 1),  # one a day at most
    ([at(-0.2), at(-0.1), at(0)], None, Bounces(once_per_day=False), 3),
    ([at(-1, False), at(0, False)], None, RULES, 0),  # delays never count
    ([at(-1), at(1)], None, RULES, 1),  # not yet: a later event is not counted now
    ([at(-8), at(-7.5), at(0)], None, RULES, 1),  # out of the 7-day window
    ([at(-3), at(-2), at(0)], T0 - timedelta(days=2.5), RULES, 2),  # before a resumption
])
def test_score(events: list[tuple[datetime, bool]], cleared: datetime | None, rules: Bounces,
               expected: int) -> None:
    assert score(events, now=T0, cleared_at=cleared, rules=rules) == expected


@pytest.mark.parametrize(("state", "sent_days_ago", "expected"), [
    ("waiting", 1, None),
    ("waiting", 2, "resume"),  # probe_wait = 2d passed without a bounce
    ("bounced", 2, None),
    ("bounced", 3, "probe"),  # probe_every = 3d: try again
    ("given-up", 30, None),
    (None, 30, None),
])
def test_probe_step(state: str | None, sent_days_ago: int, expected: str | None) -> None:
    assert probe_step(state, T0 - sent_days_ago * DAY, T0, RULES) == expected


def test_after_the_last_probe_bounced_it_is_left_to_the_moderators() -> None:
    assert [after_probe_bounced(n, RULES) for n in (1, 2, 3)] == ["bounced", "bounced",
                                                                 "given-up"]


@pytest.mark.parametrize(("raw", "said"), [
    (b"Diagnostic-Code: smtp; 550 5.1.1 <a@b.c>: User unknown\r\n",
     "550 5.1.1 <a@b.c>: User unknown"),
    (b"Status: 5.0.0\nDiagnostic-Code: X-Postfix;\n host said: 550\n  mailbox full\n",
     "host said: 550 mailbox full"),
    (b"Subject: no diagnostic here\r\n\r\nHello\r\n", ""),
])
def test_diagnostic_is_the_servers_own_words_on_one_line(raw: bytes, said: str) -> None:
    assert diagnostic(raw) == said


# --- end to end ---------------------------------------------------------------------------

@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob")]


def dsn(rcpt: str, *, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A Postfix-style RFC 3464 delivery status notification."""
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        "To: sel-bounces@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.net')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.example.net.\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nOriginal-Recipient: rfc822;{rcpt}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{rcpt}>: User unknown\r\n"
        "\r\n--B--\r\n").encode()


async def verp_of(bot: Driver, email: str) -> str:
    member = await bot.member(email)
    assert member is not None
    return f"sel-bounces+{member.verp_token}@example.org"


async def bounce(bot: Driver, to: str, raw: bytes) -> None:
    assert await bot.send(raw, mail_from="", to=to) == 250


async def post(bot: Driver, subject: str = "Nouvelles") -> None:
    bot.sink.clear()
    raw = make_message(sender="marie@example.com", subject=subject)
    assert await bot.send(raw) == 250


def notices(bot: Driver, rcpt: str, word: str) -> list[Received]:
    return [r for r in bot.sink.to(rcpt) if word in str(r.message["Subject"])]


async def events(bot: Driver, email: str) -> list[BounceEvent]:
    return list(await bot.service.db.run(lambda s: s.scalars(
        select(BounceEvent).where(BounceEvent.email == email).order_by(BounceEvent.id)).all()))


async def suspend_bob(bot: Driver) -> Received:
    """Five DSNs on five days: Bob is suspended; return the probe he was sent."""
    verp = await verp_of(bot, "bob@example.net")
    for day in range(5):
        bot.sink.clear()
        await bounce(bot, verp, dsn("bob@example.net"))
        if day < 4:
            assert (await bot.member("bob@example.net")).suspended_at is None  # type: ignore[union-attr]
            bot.clock.advance(DAY)
    probes = notices(bot, "bob@example.net", "Recevez-vous")
    assert len(probes) == 1, [r.message["Subject"] for r in bot.sink.received]
    return probes[0]


async def test_five_permanent_bounces_on_five_days_suspend_and_probe(bot: Driver) -> None:
    probe = await suspend_bob(bot)
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at == bot.clock.now()
    assert probe.mail_from == f"sel-bounces+{bob.probe_token}@example.org"
    assert str(probe.message["Reply-To"]) == f"sel-confirm+{bob.probe_token}@example.org"
    assert "répondez simplement" in probe.text()
    told = notices(bot, "alice@example.org", "suspendu")
    assert len(told) == 1 and "bob@example.net" in told[0].text()
    assert "5 fois en 7 jours" in told[0].text()
    assert "Dernière erreur : 550 5.1.1 <bob@example.net>: User unknown" in told[0].text()
    await post(bot)
    assert bot.sink.to("bob@example.net") == [] and len(bot.sink.to("marie@example.com")) == 1


async def test_bounces_on_one_day_count_once(bot: Driver) -> None:
    verp = await verp_of(bot, "bob@example.net")
    for _ in range(8):
        await bounce(bot, verp, dsn("bob@example.net"))
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None
    assert len(await events(bot, "bob@example.net")) == 8  # all kept, one counted


async def test_delays_are_recorded_but_never_suspend(bot: Driver) -> None:
    verp = await verp_of(bot, "bob@example.net")
    for _ in range(6):
        await bounce(bot, verp, dsn("bob@example.net", status="4.2.2", action="delayed"))
        bot.clock.advance(DAY)
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None
    assert [e.permanent for e in await events(bot, "bob@example.net")] == [False] * 6


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied", "Subject": "Réponse automatique : Nouvelles"},
    {"X-Autoreply": "yes", "Subject": "Out of office"},
    {"Precedence": "auto_reply", "Subject": "Absence"},
])
async def test_vacation_replies_to_the_verp_address_are_not_bounces(
        bot: Driver, headers: dict[str, str]) -> None:
    verp = await verp_of(bot, "bob@example.net")
    headers = dict(headers)  # the parameter is shared between the database variants
    subject = headers.pop("Subject")
    for _ in range(6):
        bot.sink.clear()
        raw = make_message(sender="bob@example.net", to=verp, subject=subject,
                           body="Je suis absent jusqu'au 3 décembre.\n", headers=headers)
        assert await bot.send(raw, mail_from="bob@example.net", to=verp) == 250
        assert bot.sink.received == []  # never answered
        bot.clock.advance(DAY)
    assert await events(bot, "bob@example.net") == []


async def test_success_notices_and_complaints_are_not_bounces(bot: Driver) -> None:
    verp = await verp_of(bot, "bob@example.net")
    for _ in range(6):
        await bounce(bot, verp, dsn("bob@example.net", status="2.0.0", action="delivered"))
        bot.clock.advance(DAY)
    assert await events(bot, "bob@example.net") == []


async def test_a_bounce_without_verp_names_the_member_by_address(bot: Driver) -> None:
    await bounce(bot, "sel-bounces@example.org", dsn("bob@example.net"))
    await bounce(bot, "sel-bounces@example.org", dsn("stranger@example.net"))
    assert [e.source for e in await events(bot, "bob@example.net")] == ["dsn"]
    assert await events(bot, "stranger@example.net") == []


async def test_a_probe_that_does_not_bounce_lifts_the_suspension(bot: Driver) -> None:
    await suspend_bob(bot)
    bot.clock.advance(timedelta(days=1))
    await bot.service.drain()
    assert (await bot.member("bob@example.net")).suspended_at is not None  # type: ignore[union-attr]
    bot.sink.clear()
    bot.clock.advance(timedelta(days=1, minutes=1))
    await bot.service.drain()
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None and bob.probe_token is None
    assert len(notices(bot, "alice@example.org", "repris")) == 1
    assert len(notices(bot, "bob@example.net", "de nouveau")) == 1
    await post(bot)
    assert len(bot.sink.to("bob@example.net")) == 1
    # the old bounces no longer count: one more does not suspend again
    await bounce(bot, await verp_of(bot, "bob@example.net"), dsn("bob@example.net"))
    assert (await bot.member("bob@example.net")).suspended_at is None  # type: ignore[union-attr]


async def test_a_reply_to_the_probe_lifts_the_suspension_at_once(bot: Driver) -> None:
    probe = await suspend_bob(bot)
    await bot.reply_to(probe, "Oui, je reçois bien.", sender="bob@example.net")
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None
    assert len(notices(bot, "bob@example.net", "de nouveau")) == 1


async def test_a_forged_reply_without_the_token_lifts_nothing(bot: Driver) -> None:
    await suspend_bob(bot)
    raw = make_message(sender="bob@example.net", to="sel-confirm+0123456789abcdef@example.org",
                       subject="Re: test", body="oui\n")
    assert await bot.send(raw, mail_from="bob@example.net",
                          to="sel-confirm+0123456789abcdef@example.org") == 250
    assert (await bot.member("bob@example.net")).suspended_at is not None  # type: ignore[union-attr]


async def test_bounced_probes_are_retried_then_left_to_the_moderators(bot: Driver) -> None:
    await suspend_bob(bot)
    for number in (1, 2, 3):
        bob = await bot.member("bob@example.net")
        assert bob is not None and bob.probes_sent == number
        bot.sink.clear()
        await bounce(bot, f"sel-bounces+{bob.probe_token}@example.org",
                     dsn("bob@example.net"))
        bot.clock.advance(timedelta(days=3))
        await bot.service.drain()
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.probe_state == "given-up" and bob.suspended_at is not None
    gave_up = [r for r in bot.sink.received if "hors d'usage" in str(r.message["Subject"])]
    assert len(gave_up) == 1 and "supprimer bob@example.net" in gave_up[0].text()
    bot.clock.advance(timedelta(days=30))
    await bot.service.drain()
    assert notices(bot, "bob@example.net", "Recevez-vous") == []  # no more probes


async def test_the_mail_command_lifts_a_suspension(bot: Driver) -> None:
    await suspend_bob(bot)
    await bot.command("reprise", sender="bob@example.net", name="Bob")
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None


async def test_refusals_at_smtp_time_count_as_bounces(bot: Driver) -> None:
    bot.sink.dead.add("bob@example.net")
    for day in range(5):
        await post(bot, f"Jour {day}")
        bot.clock.advance(DAY)
    found = await events(bot, "bob@example.net")
    # five refused posts, then the probe, refused too
    assert [e.source for e in found] == ["smtp"] * 5 + ["probe"]
    assert "User unknown" in found[0].detail
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is not None and bob.probe_state == "bounced"
    assert len(notices(bot, "alice@example.org", "suspendu")) == 1
    marie = await bot.member("marie@example.com")
    assert marie is not None and marie.suspended_at is None


async def test_a_refused_probe_counts_as_a_bounced_probe(bot: Driver) -> None:
    await suspend_bob(bot)
    bob = await bot.member("bob@example.net")
    assert bob is not None
    await bounce(bot, f"sel-bounces+{bob.probe_token}@example.org", dsn("bob@example.net"))
    bot.sink.dead.add("bob@example.net")
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()  # the second probe is refused at SMTP time
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.probes_sent == 2 and bob.probe_state == "bounced"


async def test_suspended_members_get_no_digest_either(bot: Driver) -> None:
    await bot.add("paul@example.org", "Paul")
    for reader in ("bob@example.net", "paul@example.org"):
        await bot.command("résumé quotidien", sender=reader)
    await suspend_bob(bot)
    await post(bot)
    bot.sink.clear()
    assert await bot.service.send_digests_now() == 1
    await bot.service.drain()
    bob = await bot.service.db.run(lambda s: s.scalar(
        select(Member).where(Member.email == "bob@example.net")))
    assert bob.delivery == "daily" and bot.sink.to("bob@example.net") == []
    assert len(bot.sink.to("paul@example.org")) == 1


async def vacation_and_adopt(bot: Driver) -> str:
    """A proposal, Bob's out-of-office reply to his VERP address, then the deadline."""
    await post(bot, "[PROPOSITION] Fête de printemps")
    verp = await verp_of(bot, "bob@example.net")
    raw = make_message(sender="bob@example.net", to=verp, subject="Réponse automatique",
                       body="Absent.\n", headers={"Auto-Submitted": "auto-replied"})
    assert await bot.send(raw, mail_from="bob@example.net", to=verp) == 250
    bot.sink.clear()
    bot.clock.advance(timedelta(days=3, minutes=1))
    await bot.service.drain()
    settled = [r for r in bot.sink.to("marie@example.com") if "adoptée" in
               str(r.message["Subject"])]
    assert len(settled) == 1
    return settled[0].text()


@pytest.mark.parametrize("rules", ['[bounces]\nmark_away = true\n'])
async def test_an_out_of_office_reply_marks_the_member_away_for_the_decision(
        bot: Driver) -> None:
    text = await vacation_and_adopt(bot)
    assert "1 membre(s) étaient absents" in text
    assert await events(bot, "bob@example.net") == []  # and it is no bounce


async def test_away_is_not_counted_unless_the_rules_say_so(bot: Driver) -> None:
    assert "absents" not in await vacation_and_adopt(bot)
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.away_until is None


async def test_members_list_shows_a_suspension(bot: Driver,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from mailbot.cli import main

    await suspend_bob(bot)
    config = str(bot.service.config.path)
    code = await asyncio.to_thread(main, ["-c", config, "members", "list", "--list", "sel"])
    out = capsys.readouterr().out
    assert code == 0
    assert "bob@example.net\tBob\teach (suspended for bounces since 2026-11-27)" in out
    assert "marie@example.com\tMarie\teach\n" in out


# --- every real sample, through the whole path ------------------------------------------

SAMPLE_MEMBERS = sorted({a for _, perm, temp in EXPECTED.values() for a in perm | temp})


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_real_sample_counts_against_the_right_member_or_nobody(
        bot: Driver, name: str) -> None:
    """Sent to the plain bounce address (no VERP): the report's own addresses must find
    the member; complaints, vacation replies and success notices count against nobody."""
    for email in SAMPLE_MEMBERS:
        await bot.add(email)
    raw = (DATA / name).read_bytes()
    assert await bot.send(raw, mail_from="", to="sel-bounces@example.org") == 250
    assert bot.sink.received == []  # a bounce is never answered
    found = await bot.service.db.run(lambda s: s.scalars(select(BounceEvent)).all())
    _, permanent, temporary = EXPECTED[name]
    got = {(e.email, e.permanent) for e in found}
    assert got == {(a, True) for a in permanent} | {(a, False) for a in temporary}


# --- a smarthost refusing a whole message (not a recipient) --------------------------------

async def refused_deliveries(bot: Driver) -> list[Delivery]:
    return list(await bot.service.db.run(lambda s: s.scalars(
        select(Delivery).where(Delivery.status == "refused")).all()))


@pytest.mark.parametrize("where", ["data", "mail-from"])
async def test_a_whole_message_refused_moves_no_score_and_is_told_once(
        bot: Driver, where: str, caplog: pytest.LogCaptureFixture) -> None:
    if where == "data":
        bot.sink.refuse_content = (b"Viagra", "554 5.7.1 Message rejected as spam")
    else:
        bot.sink.refuse_senders["sel-bounces+"] = "553 5.7.1 Sender not allowed to relay"
    raw = make_message(sender="marie@example.com", subject="Promo", body="Viagra pas cher\n")
    assert await bot.send(raw) == 250
    for email in ("marie@example.com", "bob@example.net", "chloe@example.fr"):
        assert await events(bot, email) == []  # nobody's address is at fault
    answer = "554 5.7.1 Message rejected as spam" if where == "data" else \
        "553 5.7.1 Sender not allowed to relay"
    kept = await refused_deliveries(bot)
    assert kept and all(d.last_error == answer for d in kept)
    told = notices(bot, "alice@example.org", "n'a pas pu partir")
    assert len(told) == 1, told
    text = told[0].text()
    assert answer in text and "« [sel] Promo »" in text, text
    assert caplog.text.count("refused message") == 1 and answer in caplog.text


async def test_a_refused_notice_is_only_logged(bot: Driver) -> None:
    """A server refusing everything: the post's refusal is told; that notice, refused in
    turn, is only logged (no notice about a notice)."""
    bot.sink.refuse_content = (b"", "554 5.7.0 Relay closed for maintenance")
    assert await bot.send(make_message(sender="marie@example.com", subject="Ah")) == 250
    kept = await refused_deliveries(bot)
    purposes = await bot.service.db.run(lambda s: sorted(s.scalars(
        select(OutboundMessage.purpose).where(
            OutboundMessage.id.in_({d.outbound_id for d in kept}))).all()))
    assert purposes == ["notice", "post"]


async def test_a_refused_recipient_still_counts_against_that_address(bot: Driver) -> None:
    bot.sink.dead.add("bob@example.net")
    await post(bot)
    assert [e.source for e in await events(bot, "bob@example.net")] == ["smtp"]
    assert await refused_deliveries(bot) == []


async def test_an_unreadable_notice_from_a_mail_system_is_recorded_but_never_suspends(
        bot: Driver) -> None:
    """Nothing any reader understands, from MAILER-DAEMON to Bob's own VERP address: kept
    as a temporary failure (it may be a delay warning), never a step towards suspension."""
    verp = await verp_of(bot, "bob@example.net")
    for day in range(7):
        raw = ("From: MAILER-DAEMON@mx.example.net\r\nTo: " + verp + "\r\n"
               f"Subject: Notification\r\nMessage-ID: <n{day}@mx.example.net>\r\n\r\n"
               "Zzz. 0x3f.\r\n").encode()
        await bounce(bot, verp, raw)
        bot.clock.advance(DAY)
    found = await events(bot, "bob@example.net")
    assert len(found) == 7 and not any(e.permanent for e in found)
    bob = await bot.member("bob@example.net")
    assert bob is not None and bob.suspended_at is None
