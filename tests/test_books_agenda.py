"""The meeting (issue 19, item 5): "ordre du jour" / "agenda" from a moderator returns the
contested proposals with their objections, the decisions adopted since the last meeting and
the ledger's month in figures, also as a printable PDF. Over SMTP, SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from tests.e2e import Driver
from tests.helpers import Received, make_message, transfer
from tests.test_books_buddy import pdf_facts

MODERATOR = "alice@example.org"


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie Dupont"), ("bob@example.net", "Bob Martin"),
            ("chloe@example.fr", "Chloé Petit")]


async def _propose(bot: Driver, number: int, title: str) -> None:
    raw = make_message(subject=f"[PROPOSITION] {title}", body=f"Je propose : {title}.\n",
                       message_id=f"<prop-{number}@example.com>")
    assert await bot.send(raw) == 250


async def _object(bot: Driver, number: int, title: str, text: str) -> None:
    to_id = f"<prop-{number}@example.com>"
    raw = make_message(sender="bob@example.net", subject=f"Re: [sel] [PROPOSITION] {title}",
                       body=text + "\n\n> cité\n",
                       headers={"In-Reply-To": to_id, "References": to_id})
    assert await bot.send(raw, mail_from="bob@example.net") == 250


async def _agenda(bot: Driver, words: str, sender: str = MODERATOR) -> list[Received]:
    bot.sink.clear()
    raw = make_message(sender=sender, to="sel-request@example.org", subject="", body=words,
                       name="Alice")
    assert await bot.send(raw, mail_from=sender, to="sel-request@example.org") == 250
    return bot.sink.to(sender)


async def test_the_agenda_lists_contested_adopted_and_the_month(bot: Driver) -> None:
    await _propose(bot, 1, "Achat d'une tondeuse")
    await _propose(bot, 2, "Fête de printemps")
    await _object(bot, 1, "Achat d'une tondeuse", "OBJECTION : c'est trop cher pour nous.")
    mlist = bot.service.config.lists[0]
    now = bot.clock.now()
    await bot.service.db.run(lambda s: transfer(s, mlist, "marie@example.com",
                                                "bob@example.net", 90, "jardinage", now,
                                                recorded_by="marie@example.com"))
    bot.clock.advance(timedelta(days=3, minutes=1))
    await bot.service.tick()
    await bot.service.drain()

    got = await _agenda(bot, "ordre du jour")
    agenda = next(r for r in got if "Ordre du jour de la réunion" in r.message["Subject"])
    text = agenda.text()
    assert "N°1 « Achat d'une tondeuse », proposée par Marie Dupont" in text
    assert "Objection de Bob Martin : c'est trop cher pour nous." in text
    assert "N°2 « Fête de printemps », adoptée le" in text
    assert "1 échange(s), 90 points (1h30), entre 2 membre(s)" in text
    assert "1 membre(s) sur 3 ont un solde négatif" in text
    [pdf] = list(agenda.message.iter_attachments())
    sizes, shown = pdf_facts(pdf.get_content())
    assert min(sizes) >= 14 and "Achat d'une tondeuse" in shown
    assert any("message à part" in r.text() for r in got)

    # the next meeting lists only what was adopted since this one
    again = await _agenda(bot, "Could you send me the agenda please?")
    text = next(r for r in again if "The meeting's agenda" in r.message["Subject"]).text()
    assert "Fête de printemps" not in text
    assert "No decision adopted since" in text
    assert "Achat d'une tondeuse" in text  # still contested: still to discuss


async def test_the_agenda_is_for_moderators(bot: Driver) -> None:
    [answer] = await _agenda(bot, "ordre du jour", sender="marie@example.com")
    assert "préparé pour les modérateurs" in answer.text()
    assert not list(answer.message.iter_attachments())
