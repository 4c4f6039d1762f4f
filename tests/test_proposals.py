"""Silence means consent, end to end with a fake clock over real SMTP."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailbot.storage.models import Proposal
from tests.e2e import Driver
from tests.helpers import Received, make_message


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
            ("chloe@example.fr", "Chloé")]


async def set_language(bot: Driver, email: str, language: str) -> None:
    def work(session: object) -> None:
        from tests.helpers import get_member
        member = get_member(session, "sel", email)  # type: ignore[arg-type]
        assert member is not None
        member.language = language
    await bot.service.db.run(work)


async def propose(bot: Driver, subject: str = "[PROPOSITION] Achat d'une tondeuse") -> Received:
    raw = make_message(subject=subject, body="Je propose d'acheter une tondeuse commune.\n",
                       message_id="<prop-1@example.com>")
    assert await bot.send(raw) == 250
    copies = bot.sink.to("bob@example.net")
    assert len(copies) == 1
    return copies[0]


async def reply(bot: Driver, text: str, *, sender: str, to_id: str = "<prop-1@example.com>",
                subject: str = "Re: [sel] [PROPOSITION] Achat d'une tondeuse") -> None:
    bot.sink.clear()
    raw = make_message(sender=sender, subject=subject, body=text + "\n\n> cité\n",
                       headers={"In-Reply-To": to_id, "References": to_id} if to_id else {})
    assert await bot.send(raw, mail_from=sender) == 250


async def proposals(bot: Driver) -> list[Proposal]:
    return list(await bot.service.db.run(
        lambda s: s.scalars(select(Proposal).order_by(Proposal.id)).all()))


def announcements(bot: Driver, rcpt: str = "bob@example.net") -> list[Received]:
    return [r for r in bot.sink.to(rcpt) if r.message["Auto-Submitted"] == "auto-generated"
            and r.message["List-Id"]]


async def test_a_proposal_opens_with_its_block_and_is_adopted_once(bot: Driver) -> None:
    await set_language(bot, "chloe@example.fr", "en")
    copy = await propose(bot)
    # 2026-11-23 12:00 UTC + 3 days = Thursday 26 November, 13:00 in Paris
    assert "Proposition n°1" in copy.text()
    assert "adoptée le jeudi 26 novembre à 13h00" in copy.text()
    assert "Je propose d'acheter une tondeuse commune." in copy.text()
    assert copy.message["Subject"] == "[sel] [PROPOSITION] Achat d'une tondeuse"
    assert copy.message["Message-ID"] == "<prop-1@example.com>"
    english = bot.sink.to("chloe@example.fr")[0]
    assert "Proposal no. 1" in english.text() and "Thursday 26 November at 13:00" in english.text()
    ack = [r for r in bot.sink.to("marie@example.com") if not r.message["List-Id"]]
    assert len(ack) == 1 and "n°1 est ouverte" in ack[0].message["Subject"]

    bot.sink.clear()
    bot.clock.advance(timedelta(days=2, hours=1))  # 23 hours before the deadline
    await bot.service.drain()
    reminder = announcements(bot)
    assert len(reminder) == 1 and "Rappel" in reminder[0].message["Subject"]
    assert reminder[0].message["In-Reply-To"] == "<prop-1@example.com>"
    bot.clock.advance(timedelta(hours=1))
    await bot.service.drain()
    assert len(announcements(bot)) == 1  # reminded once

    bot.sink.clear()
    bot.clock.advance(timedelta(hours=22))  # exactly the deadline
    await bot.service.drain()
    adopted = announcements(bot)
    assert len(adopted) == 1 and "adoptée" in adopted[0].message["Subject"]
    assert "en retard" not in adopted[0].text()
    assert "adopted" in announcements(bot, "chloe@example.fr")[0].message["Subject"]
    [proposal] = await proposals(bot)
    assert proposal.status == "adopted" and not proposal.settled_late

    bot.clock.advance(timedelta(days=1))
    await bot.service.drain()
    assert len(announcements(bot)) == 1  # settling again changes nothing


async def test_an_objection_by_reply_makes_it_contested(bot: Driver) -> None:
    await propose(bot)
    await reply(bot, "OBJECTION : c'est trop cher pour nous.", sender="bob@example.net")
    receipt = [r for r in bot.sink.to("bob@example.net") if not r.message["List-Id"]]
    assert len(receipt) == 1
    assert "Votre objection à la proposition n°1" in receipt[0].text()
    assert len([r for r in bot.sink.received if r.message["List-Id"]]) == 3  # still distributed

    bot.sink.clear()
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()
    settled = announcements(bot, "chloe@example.fr")
    assert len(settled) == 1 and "contestée" in settled[0].message["Subject"]
    assert "c'est trop cher" in settled[0].text()
    assert "- Bob : c'est trop cher" in settled[0].text()  # a name, not an address
    assert "bob@example.net" not in settled[0].text()
    told = [r for r in bot.sink.to("alice@example.org")]
    assert len(told) == 1 and "demande une discussion" in told[0].message["Subject"]
    assert any("demande une discussion" in r.message["Subject"]
               for r in bot.sink.to("marie@example.com"))
    assert [p.status for p in await proposals(bot)] == ["contested"]


async def test_proposals_settled_together_each_count_their_own_replies(bot: Driver) -> None:
    await propose(bot)
    for number, title in ((2, "Fête de printemps"), (3, "Nouveau local")):
        raw = make_message(subject=f"[PROPOSITION] {title}", body=f"{title}.\n",
                           message_id=f"<prop-{number}@example.com>")
        assert await bot.send(raw) == 250
    await reply(bot, "D'accord, bonne idée.", sender="bob@example.net")
    await reply(bot, "Je soutiens.", sender="chloe@example.fr")
    await reply(bot, "Je soutiens.", sender="chloe@example.fr", to_id="<prop-2@example.com>",
                subject="Re: [sel] [PROPOSITION] Fête de printemps")
    await reply(bot, "OBJECTION : trop loin.", sender="bob@example.net",
                to_id="<prop-3@example.com>", subject="Re: [sel] [PROPOSITION] Nouveau local")

    bot.sink.clear()
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()  # all three are due: one round settles them
    settled = {str(r.message["In-Reply-To"]): r for r in announcements(bot, "chloe@example.fr")}
    first, second, third = (settled[f"<prop-{n}@example.com>"] for n in (1, 2, 3))
    assert "adoptée" in first.message["Subject"] and "adoptée" in second.message["Subject"]
    assert "2 membre(s) l'ont soutenue" in first.text()
    assert "1 membre(s) l'ont soutenue" in second.text()
    assert "contestée" in third.message["Subject"] and "trop loin" in third.text()
    assert [p.status for p in await proposals(bot)] == ["adopted", "adopted", "contested"]


async def test_proposals_reminded_together_each_count_their_own_objections(
        bot: Driver) -> None:
    await propose(bot)
    raw = make_message(subject="[PROPOSITION] Nouveau local", body="Nouveau local.\n",
                       message_id="<prop-2@example.com>")
    assert await bot.send(raw) == 250
    for sender in ("bob@example.net", "chloe@example.fr"):
        await reply(bot, "OBJECTION : trop loin.", sender=sender,
                    to_id="<prop-2@example.com>", subject="Re: [sel] [PROPOSITION] Nouveau local")

    bot.sink.clear()
    bot.clock.advance(timedelta(days=2, hours=1))  # both inside the reminder window
    await bot.service.drain()  # one round reminds them both
    reminded = {str(r.message["In-Reply-To"]): r
                for r in announcements(bot, "marie@example.com")}
    assert set(reminded) == {"<prop-1@example.com>", "<prop-2@example.com>"}
    assert "objection(s)" not in reminded["<prop-1@example.com>"].text()
    assert "2 objection(s)" in reminded["<prop-2@example.com>"].text()
    for email in ("bob@example.net", "chloe@example.fr"):
        assert len(announcements(bot, email)) == 2


async def test_a_withdrawn_objection_no_longer_stands(bot: Driver) -> None:
    await propose(bot)
    await reply(bot, "Je m'oppose, il faut en parler.", sender="bob@example.net")
    await reply(bot, "Bonjour,\nJe retire mon objection, c'est réglé.", sender="bob@example.net")
    receipt = [r for r in bot.sink.to("bob@example.net") if not r.message["List-Id"]]
    assert "retirée" in receipt[0].message["Subject"]
    await reply(bot, "+1 bonne idée", sender="chloe@example.fr")
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()
    assert [p.status for p in await proposals(bot)] == ["adopted"]


async def test_a_number_in_the_subject_finds_the_proposal(bot: Driver) -> None:
    await propose(bot)
    await reply(bot, "veto", sender="chloe@example.fr", to_id="",
                subject="Au sujet de la proposition n°1")
    assert any("objection est enregistrée" in r.message["Subject"]
               for r in bot.sink.to("chloe@example.fr"))


async def test_comments_record_nothing_and_strangers_cannot_object(bot: Driver) -> None:
    await propose(bot)
    await reply(bot, "Bonne question, qui stocke la tondeuse ?", sender="bob@example.net")
    assert all(r.message["List-Id"] for r in bot.sink.received)  # no receipt
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()
    assert [p.status for p in await proposals(bot)] == ["adopted"]


async def test_an_amended_proposal_replaces_the_first_and_opens_a_new_period(
        bot: Driver) -> None:
    await propose(bot)
    bot.clock.advance(timedelta(days=1))
    await reply(bot, "Version moins chère.", sender="marie@example.com",
                subject="[PROPOSITION] Achat d'une tondeuse d'occasion")
    copy = bot.sink.to("bob@example.net")[0]
    assert "Proposition n°2" in copy.text() and "remplace la proposition n°1" in copy.text()
    first, second = await proposals(bot)
    assert first.status == "superseded" and second.status == "open"
    assert second.deadline == bot.clock.now() + timedelta(days=3)
    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()
    assert [p.status for p in await proposals(bot)] == ["superseded", "adopted"]


async def test_a_deadline_passed_while_down_is_settled_late_once(bot: Driver) -> None:
    await propose(bot)
    bot.sink.clear()
    bot.clock.advance(timedelta(days=5))  # the daemon was down: no tick since
    await bot.service.drain()
    adopted = [r for r in announcements(bot) if "adoptée" in r.message["Subject"]]
    assert len(adopted) == 1 and "en retard" in adopted[0].text()
    assert not any("Rappel" in r.message["Subject"] for r in announcements(bot))
    [proposal] = await proposals(bot)
    assert proposal.settled_late


async def test_proposals_and_decisions_commands(bot: Driver) -> None:
    await propose(bot)
    reply_mail = await bot.command("propositions", sender="bob@example.net")
    assert "n°1 « Achat d'une tondeuse »" in reply_mail.text()
    assert "jeudi 26 novembre à 13h00" in reply_mail.text()
    reply_mail = await bot.command("décisions", sender="bob@example.net")
    assert "Aucune décision adoptée" in reply_mail.text()

    bot.clock.advance(timedelta(days=3))
    await bot.service.drain()
    reply_mail = await bot.command("decisions 2026", sender="bob@example.net")
    assert "n°1, le 26 novembre 2026 : Achat d'une tondeuse" in reply_mail.text()
    reply_mail = await bot.command("décisions 2025", sender="bob@example.net")
    assert "Aucune décision adoptée en 2025" in reply_mail.text()
    reply_mail = await bot.command("propositions", sender="bob@example.net")
    assert "Aucune proposition n'est ouverte" in reply_mail.text()
    stranger = await bot.command("proposals", sender="nobody@example.net")
    assert "not on" in stranger.text()


async def test_only_the_proposer_or_a_moderator_withdraws_or_extends(bot: Driver) -> None:
    await propose(bot)
    refused = await bot.command("retirer 1", sender="bob@example.net")
    assert "Seuls l'auteur" in refused.text()
    missing = await bot.command("retirer 7")
    assert "pas de proposition n°7" in missing.text()

    bot.clock.advance(timedelta(days=2, hours=12))  # reminded already
    await bot.service.drain()
    done = await bot.command("prolonger 1 2d")
    assert "sera adoptée le samedi 28 novembre à 13h00" in done.text()
    bot.sink.clear()
    bot.clock.advance(timedelta(days=1))  # the first deadline passes: nothing happens
    await bot.service.drain()
    assert [p.status for p in await proposals(bot)] == ["open"]
    assert not any("Rappel" in r.message["Subject"] for r in announcements(bot))
    bot.clock.advance(timedelta(hours=12))  # 24 hours before the new deadline: reminded again
    await bot.service.drain()
    assert any("Rappel" in r.message["Subject"] for r in announcements(bot))

    done = await bot.command("withdraw 1", sender="alice@example.org")
    assert "withdrawn" in done.text() or "retirée" in done.text()
    told = announcements(bot)
    assert any("retirée" in r.message["Subject"] for r in told)
    bot.clock.advance(timedelta(days=5))
    await bot.service.drain()
    assert [p.status for p in await proposals(bot)] == ["withdrawn"]
    again = await bot.command("prolonger 1 2d")
    assert "n'est plus ouverte" in again.text()


async def test_a_digest_reader_gets_the_proposal_when_their_digest_is_too_late(
        bot: Driver) -> None:
    def set_modes(session: object) -> None:
        from tests.helpers import get_member
        for email, mode in (("bob@example.net", "weekly"), ("chloe@example.fr", "daily")):
            member = get_member(session, "sel", email)  # type: ignore[arg-type]
            assert member is not None
            member.delivery = mode
    await bot.service.db.run(set_modes)
    raw = make_message(subject="[PROPOSITION] Fête", message_id="<p@example.com>")
    await bot.send(raw)
    # deadline Thursday 12:00 UTC, cut-off Wednesday 12:00 UTC: the weekly digest (Sunday)
    # is too late, the daily one (today 18:00 Paris) is in time
    assert len(bot.sink.to("bob@example.net")) == 1
    assert bot.sink.to("chloe@example.fr") == []
    bot.sink.clear()
    await bot.send(make_message(subject="Une simple question"))
    assert bot.sink.to("bob@example.net") == []  # ordinary posts wait for the digest


async def test_extend_reads_a_spaced_number(bot: Driver) -> None:
    await propose(bot)
    done = await bot.command("prolonger n° 1 2d")
    assert "sera adoptée le samedi 28 novembre à 13h00" in done.text()
