"""Digests end to end: delivery modes by email, one digest per period, content, MIME."""

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session

from mailbot.config import Config
from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage import db
from tests.e2e import Driver
from tests.helpers import Received, make_message
from tests.test_proposals import set_language

READER = "chloe@example.fr"


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob"), (READER, "Chloé")]


def digests(bot: Driver, rcpt: str = READER) -> list[Received]:
    return [r for r in bot.sink.to(rcpt) if str(r.message["Subject"]).strip().startswith(
        ("Résumé", "Daily digest", "Weekly digest"))]


async def three_posts(bot: Driver) -> None:
    await bot.send(make_message(subject="Réunion jeudi", message_id="<t1@example.com>",
                                body="On se retrouve jeudi à 18h ?\n"))
    bot.clock.advance(timedelta(minutes=5))
    await bot.send(make_message(sender="bob@example.net", subject="Re: [sel] Réunion jeudi",
                                body="Oui, j'apporte du pain.\n\nLe lun. Marie a écrit :\n"
                                     "> On se retrouve jeudi à 18h ?\n",
                                headers={"In-Reply-To": "<t1@example.com>",
                                         "References": "<t1@example.com>"}),
                   mail_from="bob@example.net")
    bot.clock.advance(timedelta(minutes=5))
    await bot.send(make_message(subject="Perdu un parapluie", body="Un parapluie bleu.\n"))


async def test_three_posts_reach_a_daily_reader_in_one_digest(bot: Driver) -> None:
    reply = await bot.command("résumé quotidien", sender=READER, name="Chloé")
    assert "un résumé par jour" in reply.text()
    bot.sink.clear()
    await three_posts(bot)
    assert bot.sink.to(READER) == []  # nothing as it comes
    assert len(bot.sink.to("marie@example.com")) == 3  # the others get each post

    bot.clock.advance(timedelta(hours=4, minutes=40))  # 16:50 UTC: not yet 18:00 in Paris
    await bot.service.drain()
    assert digests(bot) == []
    bot.clock.advance(timedelta(minutes=10))  # 17:00 UTC = 18:00 in Paris
    await bot.service.drain()
    [digest] = digests(bot)
    text = digest.text()
    assert digest.message["Subject"] == "Résumé du jour de SEL de Saint-Martin : 3 message(s)"
    assert digest.message["List-Id"] == "SEL de Saint-Martin <sel.example.org>"
    assert "1. Réunion jeudi (2 messages)" in text and "2. Perdu un parapluie" in text
    assert text.index("On se retrouve") < text.index("j'apporte du pain") \
        < text.index("parapluie bleu")
    assert text.count("On se retrouve jeudi") == 1  # the quote in Bob's reply is trimmed

    bot.sink.clear()
    bot.clock.advance(timedelta(days=1))
    await bot.service.drain()
    assert digests(bot) == []  # nothing new: no digest


async def test_digest_send_now_then_again_sends_nothing(bot: Driver) -> None:
    await bot.command("digest weekly", sender=READER)
    await three_posts(bot)
    assert await bot.service.send_digests_now() == 1
    await bot.service.drain()
    assert len(digests(bot)) == 1 and "Résumé de la semaine" in digests(bot)[0].message["Subject"]
    assert await bot.service.send_digests_now() == 0


async def test_a_missed_digest_time_is_caught_up_once(bot: Driver) -> None:
    await bot.command("digest daily", sender=READER)
    await three_posts(bot)
    bot.sink.clear()
    bot.clock.advance(timedelta(days=3))  # down for three digest times
    await bot.service.drain()
    assert len(digests(bot)) == 1


async def test_one_digest_per_period_across_restarts(bot: Driver, config: Config,
                                                     clock: FakeClock) -> None:
    await bot.command("digest daily", sender=READER)
    await three_posts(bot)
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    assert len(digests(bot)) == 1
    restarted = Service(config, clock=clock)  # another process on the same database
    try:
        db.check_schema(restarted.db.engine)
        await restarted.drain()
        assert await restarted.tick() == 0
    finally:
        restarted.close()
    assert len(digests(bot)) == 1


async def test_readers_are_taken_a_few_at_a_time_each_gets_one_digest(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailbot.digests import delivery as digest_delivery
    from mailbot.outbound.context import Context

    readers = [READER] + [f"reader{i}@example.fr" for i in range(4)]
    for email in readers[1:]:
        await bot.add(email)
    for email in readers:
        await bot.command("digest daily", sender=email)
    await three_posts(bot)
    bot.sink.clear()

    def one_round(session: Session) -> digest_delivery.Round:
        ctx = Context.open(session, bot.service.config, bot.service.composer, bot.clock.now())
        return digest_delivery.send_due(ctx, everything_until=bot.clock.now(), limit=2)

    rounds = [await bot.service.db.run(one_round) for _ in range(4)]
    assert rounds == [digest_delivery.Round(2, 2), digest_delivery.Round(2, 2),
                      digest_delivery.Round(1, 1), digest_delivery.Round(0, 0)]

    monkeypatch.setattr(digest_delivery, "CHUNK", 2)  # the daemon's rounds, at digest time
    parsed = []
    read_posts = digest_delivery._posts
    monkeypatch.setattr(digest_delivery, "_posts",
                        lambda *args: parsed.append(args[2]) or read_posts(*args))
    await three_posts(bot)
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    assert {email: len(digests(bot, email)) for email in readers} == \
        {email: 2 for email in readers}  # the one sent by hand, and the day's
    assert len(parsed) == 1  # the posts were read once for the three rounds


async def test_weekly_digests_leave_on_the_rules_weekday(bot: Driver) -> None:
    await bot.command("digest weekly", sender=READER)
    await three_posts(bot)
    for _ in range(5):  # Monday 23 to Saturday 28 November
        bot.clock.advance(timedelta(days=1))
        await bot.service.drain()
    assert digests(bot) == []
    bot.clock.advance(timedelta(days=1))  # Sunday 29, 12:00 UTC: before 18:00
    await bot.service.drain()
    assert digests(bot) == []
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    assert len(digests(bot)) == 1


async def test_mime_digest_carries_the_messages(bot: Driver) -> None:
    await bot.command("résumé quotidien\nrésumé mime", sender=READER)
    await three_posts(bot)
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    [digest] = digests(bot)
    msg = digest.message
    assert msg.get_content_type() == "multipart/mixed"
    text_part, digest_part = list(msg.iter_parts())
    assert text_part.get_content_type() == "text/plain"
    assert "joints à ce résumé" in text_part.get_content()
    assert digest_part.get_content_type() == "multipart/digest"
    parts = list(digest_part.iter_parts())
    assert [p.get_content_type() for p in parts] == ["message/rfc822"] * 3
    inner = parts[0].get_content()
    assert isinstance(inner, EmailMessage) and inner["Message-ID"] == "<t1@example.com>"


def with_photo(subject: str, body: str) -> bytes:
    msg = message_from_bytes(make_message(subject=subject, body=body), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(b"\xff\xd8\xff\xe0 not really a jpeg", maintype="image",
                       subtype="jpeg", filename="fête.jpg")
    return msg.as_bytes(policy=policy.SMTP)


async def test_a_text_digest_says_which_posts_had_files_and_how_to_get_them(
        bot: Driver) -> None:
    await bot.command("résumé quotidien", sender=READER)
    await bot.send(with_photo("Photos de la fête", "Voici une photo.\n"))
    await bot.send(make_message(subject="Sans photo", body="Rien de joint.\n"))
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    [digest] = digests(bot)
    text = digest.text()
    assert "1. Photos de la fête — avec pièce(s) jointe(s)" in text
    assert "2. Sans photo\n" in text.replace("\r\n", "\n")
    assert "[Pièce(s) jointe(s) : fête.jpg]" in text
    assert "écrivez « résumé mime »" in text and text.count("Pièce(s) jointe(s)") == 1


async def test_a_digest_without_files_says_nothing_of_them(bot: Driver) -> None:
    await bot.command("résumé quotidien", sender=READER)
    await three_posts(bot)
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    [digest] = digests(bot)
    assert "pièce" not in digest.text().lower()


async def test_digest_shows_closing_proposals_and_decisions(bot: Driver) -> None:
    await bot.command("digest daily", sender=READER)
    await bot.send(make_message(subject="[PROPOSITION] Fête de fin d'année",
                                message_id="<p1@example.com>"))
    bot.clock.advance(timedelta(hours=5))  # today's digest: the proposal is open
    await bot.service.drain()
    first = digests(bot)[-1].text()
    assert "n°1 « Fête de fin d'année » : adoptée le jeudi 26 novembre à 13h00" in first
    assert "OBJECTION" in first
    bot.clock.advance(timedelta(days=3))  # settled on Thursday, digest at 18:00
    await bot.service.drain()
    last = digests(bot)[-1].text()
    assert "Décidé depuis le dernier résumé" in last
    assert "n°1 « Fête de fin d'année » : adoptée" in last


async def test_leaving_digest_mode_sends_what_was_pending(bot: Driver) -> None:
    await bot.command("digest daily", sender=READER)
    await three_posts(bot)
    bot.sink.clear()
    reply = await bot.command("résumé non", sender=READER)
    assert "chaque message" in reply.text()
    assert len(digests(bot)) == 1  # the last digest, at once
    await bot.send(make_message(subject="Encore un"))
    assert any(r.message["Subject"] == "[sel] Encore un" for r in bot.sink.to(READER))


async def test_paused_digest_readers_get_nothing(bot: Driver) -> None:
    await bot.command("digest daily\npause", sender=READER)
    await three_posts(bot)
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    assert digests(bot) == []


async def test_digest_lists_new_offers_and_requests(bot: Driver) -> None:
    await bot.command("digest daily", sender=READER)
    await bot.send(make_message(subject="[OFFRE] Vélo à prêter"))
    await bot.send(make_message(sender="bob@example.net", name="Bob", subject="[DEMANDE] Perceuse"),
                   mail_from="bob@example.net")
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    text = digests(bot)[-1].text()
    assert "Nouvelles offres et demandes" in text
    assert "offre n°1 « Vélo à prêter » — Marie" in text
    assert "demande n°2 « Perceuse » — Bob" in text


@pytest.mark.parametrize("members", [[
    ("marie@example.com", "Marie"), ("bob@example.net", "Bob"), (READER, "Chloé"),
    ("denis@example.org", "Denis"), ("emma@example.org", "Emma")]])
async def test_readers_with_the_same_digest_share_one_message(bot: Driver) -> None:
    """One digest is rendered and stored for every reader of the same language and format;
    it is addressed to the list, and each copy still has its reader's own envelope."""
    for email, text in ((READER, "résumé quotidien"), ("denis@example.org", "résumé quotidien"),
                        ("emma@example.org", "résumé quotidien"),
                        ("bob@example.net", "résumé quotidien\nrésumé mime")):
        await bot.command(text, sender=email)
    await set_language(bot, "emma@example.org", "en")
    await three_posts(bot)
    bot.sink.clear()
    bot.clock.advance(timedelta(hours=5))
    await bot.service.drain()
    got = {email: digests(bot, email) for email in
           (READER, "denis@example.org", "emma@example.org", "bob@example.net")}
    assert all(len(copies) == 1 for copies in got.values()), got
    chloe, denis, emma, bob = (copies[0] for copies in got.values())
    assert chloe.message["Message-ID"] == denis.message["Message-ID"]
    assert len({chloe.message["Message-ID"], emma.message["Message-ID"],
                bob.message["Message-ID"]}) == 3
    assert "Daily digest" in emma.message["Subject"] and "Résumé" in chloe.message["Subject"]
    assert bob.message.get_content_type() == "multipart/mixed"
    assert {r.message["To"] for r in (chloe, denis, emma, bob)} == {"sel@example.org"}
    assert len({r.mail_from for r in (chloe, denis, emma, bob)}) == 4  # VERP, each its own
    assert digests(bot, "marie@example.com") == []


async def test_a_round_renders_a_bounded_number_of_digests(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers who joined at different times have news of their own, one render each: a
    round stops at RENDERS digests, and the next round takes the rest."""
    from mailbot.digests import delivery as digest_delivery
    from mailbot.outbound.context import Context

    late = []
    for i in range(3):
        await three_posts(bot)
        bot.clock.advance(timedelta(minutes=1))
        late.append(f"late{i}@example.fr")
        await bot.add(late[-1])  # joins after these posts: sees only what follows
        await bot.command("digest daily", sender=late[-1])
    await bot.send(make_message(subject="Pour tous", message_id="<last@example.com>"))
    monkeypatch.setattr(digest_delivery, "RENDERS", 2)

    def one_round(session: Session) -> digest_delivery.Round:
        ctx = Context.open(session, bot.service.config, bot.service.composer, bot.clock.now())
        return digest_delivery.send_due(ctx, everything_until=bot.clock.now())

    rounds = [await bot.service.db.run(one_round) for _ in range(3)]
    assert rounds == [digest_delivery.Round(2, 2), digest_delivery.Round(1, 1),
                      digest_delivery.Round(0, 0)]
    await bot.service.drain()
    counts = [int(str(digests(bot, email)[0].message["Subject"]).split(": ")[-1].split()[0])
              for email in late]
    assert counts == [5, 3, 1]  # from the moment each joined (t1 is the same post each time)
