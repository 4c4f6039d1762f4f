"""Authenticity and abuse: proven senders (Authentication-Results), forged From, the ban
list, rate limits, and no header or template injection from anything a user writes."""

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.config import Config, load_config
from mailbot.lists.bans import is_banned
from mailbot.outbound.dates import format_when
from mailbot.reading.authenticity import is_proven
from mailbot.reading.message import parse
from tests.e2e import Driver
from tests.helpers import Sink, balance, make_message, write_config

MX = "mx.example.org"


def with_results(*values: str, sender: str = "marie@example.com") -> EmailMessage:
    headers = "".join(f"Authentication-Results: {v}\r\n" for v in values)
    return parse(headers.encode() + make_message(sender=sender))


@pytest.mark.parametrize(("results", "proven"), [
    ([f"{MX}; dkim=pass header.d=example.com header.s=s1"], True),
    ([f"{MX}; dkim=pass header.i=@example.com"], True),
    ([f"{MX}; dkim=pass header.d=com"], False),  # not aligned: a bare TLD is no signer
    ([f"{MX}; dkim=pass header.d=evil.example"], False),  # signed, but by someone else
    ([f"{MX}; dkim=fail header.d=example.com"], False),
    ([f"{MX}; dmarc=pass header.from=example.com"], True),
    ([f"{MX}; dmarc=fail header.from=example.com"], False),
    ([f"{MX}; spf=pass smtp.mailfrom=marie@example.com"], False),  # SPF proves no From
    (["other.example; dkim=pass header.d=example.com"], False),  # not our MTA
    # ours says fail; a forged "pass" below it with our name is never read
    ([f"{MX}; dkim=fail header.d=example.com", f"{MX}; dkim=pass header.d=example.com"],
     False),
    (["; ; =;;", f"{MX}; dkim=pass header.d=example.com"], True),  # junk is skipped
    ([], False),
])
def test_proven_authors(results: list[str], proven: bool) -> None:
    assert is_proven(with_results(*results), "marie@example.com", MX) is proven


def test_nothing_is_proven_without_a_configured_authserv_id() -> None:
    msg = with_results(f"{MX}; dkim=pass header.d=example.com")
    assert is_proven(msg, "marie@example.com", "") is False


def test_a_subdomain_author_is_aligned_with_its_parent_signer() -> None:
    msg = with_results(f"{MX}; dkim=pass header.d=example.com", sender="m@mail.example.com")
    assert is_proven(msg, "m@mail.example.com", MX) is True


@pytest.mark.parametrize(("addresses", "banned"), [
    (["spam@junk.example"], True),
    (["SPAM@Junk.Example"], True),
    (["anyone@bad.example"], True),
    (["marie@example.com", "bounce@bad.example"], True),  # the envelope counts too
    (["marie@example.com"], False),
    (["marie@notbad.example"], False),
    ([""], False),
])
def test_ban_patterns(addresses: list[str], banned: bool) -> None:
    assert is_banned(addresses, ("spam@junk.example", "*@bad.example")) is banned


# --- end to end ---------------------------------------------------------------------------

@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str) -> Config:
    return load_config(write_config(tmp_path, database_url, sink_port=sink.port, rules=rules,
                                    server_extra=f'authserv_id = "{MX}"\n'
                                                 'trusted_relays = ["127.0.0.1"]'))


@pytest.fixture
def rules() -> str:
    return '[abuse]\nbanned = ["*@junk.example", "troll@example.net"]\nreplies_per_hour = 4\n'


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
            ("troll@example.net", "Troll")]


async def command(bot: Driver, text: str, *, sender: str = "marie@example.com",
                  results: str = "") -> list[EmailMessage]:
    """Send a command (with our MTA's verdict on top when given); the messages it caused."""
    bot.sink.clear()
    raw = make_message(sender=sender, to="sel-request@example.org", body=text)
    if results:
        raw = f"Authentication-Results: {results}\r\n".encode() + raw
    assert await bot.send(raw, mail_from=sender, to="sel-request@example.org") == 250
    return [r.message for r in bot.sink.received]


async def points(bot: Driver, email: str) -> int:
    found: int = await bot.service.db.run(balance, "sel", email)
    return found


async def test_a_proven_member_pays_without_a_round_trip(bot: Driver) -> None:
    sent = await command(bot, "payer Bob 1h jardinage",
                         results=f"{MX}; dkim=pass header.d=example.com")
    assert await points(bot, "bob@example.net") == 60
    reply = next(m for m in sent if "C'est fait tout de suite" in m.get_body().get_content())
    assert reply["Reply-To"] is None  # nothing to confirm
    assert {str(m["To"]) for m in sent} == {"marie@example.com", "bob@example.net"}


@pytest.mark.parametrize("results", [
    "", f"{MX}; dkim=fail header.d=example.com", "mx.evil.example; dkim=pass header.d=example.com",
    f"{MX}; dkim=pass header.d=evil.example",
])
async def test_an_unproven_payment_still_asks_for_a_reply(bot: Driver, results: str) -> None:
    sent = await command(bot, "payer Bob 1h", results=results)
    assert await points(bot, "bob@example.net") == 0
    assert len(sent) == 1 and "sel-confirm+" in str(sent[0]["Reply-To"])


async def test_a_proven_moderator_adds_and_removes_at_once(bot: Driver) -> None:
    proof = f"{MX}; dmarc=pass header.from=example.org"
    await command(bot, "ajouter paul@example.org Paul", sender="alice@example.org",
                  results=proof)
    assert await bot.member("paul@example.org") is not None
    await command(bot, "supprimer paul@example.org", sender="alice@example.org", results=proof)
    assert await bot.member("paul@example.org") is None


async def test_a_forged_moderator_changes_nobody(bot: Driver) -> None:
    sent = await command(bot, "ajouter paul@example.org Paul", sender="alice@example.org")
    assert await bot.member("paul@example.org") is None
    assert [str(m["To"]) for m in sent] == ["alice@example.org"]  # only she can confirm


async def test_joining_always_asks_even_when_proven(bot: Driver) -> None:
    sent = await command(bot, "inscription", sender="newbie@example.com",
                         results=f"{MX}; dkim=pass header.d=example.com")
    assert await bot.member("newbie@example.com") is None
    assert "sel-confirm+" in str(sent[0]["Reply-To"])


async def test_approving_needs_the_notice_token_even_when_proven(bot: Driver) -> None:
    assert await bot.send(make_message(sender="stranger@example.com", subject="Pub"),
                          mail_from="stranger@example.com") == 250  # held
    sent = await command(bot, "approuver", sender="alice@example.org",
                         results=f"{MX}; dkim=pass header.d=example.org")
    assert "répondez directement à l'avis" in sent[0].get_body().get_content()
    assert [m for m in sent if m["List-Id"]] == []  # nothing went to the list


async def test_banned_senders_are_ignored_without_an_answer(bot: Driver) -> None:
    for sender in ("spam@junk.example", "troll@example.net"):
        bot.sink.clear()
        assert await bot.send(make_message(sender=sender), mail_from=sender) == 250
        assert await bot.send(make_message(sender=sender, to="sel-request@example.org",
                                           body="aide"),
                              mail_from=sender, to="sel-request@example.org") == 250
        assert bot.sink.received == []
    bot.sink.clear()
    assert await bot.send(make_message(sender="bob@example.net"),
                          mail_from="bob@example.net") == 250
    assert len(bot.sink.received) == 3  # the control: Bob's post reaches all three


async def test_command_replies_to_a_member_are_rate_limited_and_told_once(
        bot: Driver, caplog: pytest.LogCaptureFixture) -> None:
    first_at = bot.clock.now()
    got = []
    for _ in range(6):
        got.append(await command(bot, "aide", sender="bob@example.net"))
        bot.clock.advance(timedelta(minutes=1))
    assert [len(messages) for messages in got] == [1, 1, 1, 1, 1, 0]  # replies_per_hour = 4
    notice = got[4][0]
    until = format_when(first_at + timedelta(hours=1), "Europe/Paris", "fr")
    assert until in str(notice["Subject"]) and "je ne vous réponds plus" in \
        notice.get_content()
    assert caplog.text.count("held back by the rate limit") == 1
    bot.clock.advance(timedelta(hours=1, minutes=1))
    assert len(await command(bot, "aide", sender="bob@example.net")) == 1


INJECTED_NAME = "=?utf-8?q?Marie=0D=0ABcc=3A_victim=40evil=2Eexample?="
INJECTED_SUBJECT = "=?utf-8?q?Vente=0D=0ABcc=3A_victim=40evil=2Eexample=0D=0A=0D=0Abody?="


async def test_crlf_in_names_and_subjects_never_makes_a_header(bot: Driver) -> None:
    raw = (f"From: {INJECTED_NAME} <stranger@example.com>\r\nTo: sel@example.org\r\n"
           f"Subject: {INJECTED_SUBJECT} {{{{ 7*7 }}}}\r\nMessage-ID: <inj@example.com>\r\n"
           "\r\nBonjour\r\n").encode()
    assert await bot.send(raw, mail_from="stranger@example.com") == 250  # held: not a member
    assert bot.sink.received, "the author and the moderator are told"
    for received in bot.sink.received:
        head = received.raw.split(b"\r\n\r\n", 1)[0]
        assert b"\nBcc" not in head and b"\nbcc" not in head
        assert received.message["Bcc"] is None and "victim" not in received.rcpt_tos
    notice = next(r for r in bot.sink.received if "alice@example.org" in r.rcpt_tos)
    assert "{{ 7*7 }}" in notice.text() and "49" not in str(notice.message["Subject"])
