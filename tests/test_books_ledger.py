"""The treasurer's ledger by email (issue 19, item 3): paper slips recorded by a treasurer
or a moderator, confirmed by reply, receipts naming who recorded them, corrections as
reversing entries, yearly statements. End to end over SMTP, on SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.config import Config, load_config
from mailbot.storage.models import LedgerEntry
from tests.e2e import Driver
from tests.helpers import Sink, balance, write_config

TREASURER = "tresor@example.org"


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str) -> Config:
    return load_config(write_config(tmp_path, database_url, sink_port=sink.port, rules=rules,
                                    extra_list=f'treasurers = ["{TREASURER}"]\n'))


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("bob@example.net", "Bob Martin"), ("dave@example.org", "Dave Leroy"),
            ("marie@example.com", "Marie Dupont"), (TREASURER, "Thérèse Caisse")]


async def balances(bot: Driver) -> dict[str, int]:
    return {e: await bot.service.db.run(balance, "sel", e)
            for e in ("bob@example.net", "dave@example.org", "marie@example.com")}


def _journal(session: Any) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


async def journal(bot: Driver) -> list[LedgerEntry]:
    return await bot.service.db.run(_journal)


async def test_a_treasurer_records_a_paper_slip_confirmed_by_reply(bot: Driver) -> None:
    ask = await bot.command("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage, 12 novembre",
                            sender=TREASURER, name="Thérèse")
    assert str(ask.message["Reply-To"]).startswith("sel-confirm+")
    assert "Bob Martin → Dave Leroy : 2h (120 points), jardinage, le 12 novembre 2026" in \
        ask.text()
    assert await journal(bot) == []  # nothing before the reply

    await bot.reply_to(ask, "oui", sender=TREASURER)
    assert await balances(bot) == {"bob@example.net": -120, "dave@example.org": 120,
                                   "marie@example.com": 0}
    [entry] = await journal(bot)
    assert entry.recorded_by == TREASURER and entry.memo == "jardinage"
    assert entry.done_on is not None and entry.done_on.isoformat() == "2026-11-12"
    for person in ("bob@example.net", "dave@example.org"):
        [receipt] = bot.sink.to(person)
        assert "Thérèse Caisse (trésorier) a enregistré" in receipt.text()
        assert f"Écriture n°{entry.id}" in receipt.text()
    assert "Votre solde : -120 points" in bot.sink.to("bob@example.net")[0].text()
    summary = bot.sink.to(TREASURER)
    assert len(summary) == 1 and "1 échange(s) enregistré(s)" in summary[0].message["Subject"]

    bot.sink.clear()
    await bot.reply_to(ask, "oui", sender=TREASURER)  # single use: nothing twice
    assert len(await journal(bot)) == 1


async def test_slips_in_sentences_several_in_one_message_one_reply(bot: Driver) -> None:
    text = ("Please record that Bob Martin paid Dave Leroy 2 hours for gardening on 12 "
            "November.\nrecord: Marie → Bob Martin, 45 min, bread\n")
    ask = await bot.command(text, sender="alice@example.org", name="Alice")  # a moderator
    assert "To record: Bob Martin → Dave Leroy: 2h (120 points), gardening" in ask.text()
    assert "Also to record: Marie Dupont → Bob Martin: 0h45 (45 points), bread" in ask.text()
    await bot.reply_to(ask, "yes", sender="alice@example.org")
    assert await balances(bot) == {"bob@example.net": -75, "dave@example.org": 120,
                                   "marie@example.com": -45}
    assert [e.recorded_by for e in await journal(bot)] == ["alice@example.org"] * 2
    assert "(modérateur)" in bot.sink.to("marie@example.com")[0].text()


async def test_french_sentence_slip(bot: Driver) -> None:
    ask = await bot.command("Bonjour, merci d'enregistrer 1h30 de Marie à Dave Leroy pour le "
                            "repassage du 3 novembre.", sender=TREASURER)
    assert "Marie Dupont → Dave Leroy : 1h30 (90 points), repassage, le 3 novembre 2026" in \
        ask.text()


@pytest.mark.parametrize("rules", ['[exchange]\nmin_balance = -100\n'])
async def test_bad_slips_get_a_short_answer_and_nothing_is_written(bot: Driver) -> None:
    unknown = await bot.command("enregistrer : Bob Martin → Zoé Inconnue, 1 h, pain",
                                sender=TREASURER)
    assert "« Zoé Inconnue » n'est pas membre de la liste" in unknown.text()
    assert unknown.message["Reply-To"] is None
    past = await bot.command("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage",
                             sender=TREASURER)
    assert "Refusé" in past.text() and "sous la limite" in past.text()
    assert past.message["Reply-To"] is None
    # the second slip of a batch is checked after the first
    both = await bot.command("record: Bob → Dave, 1h\nrecord: Bob → Marie, 1h",
                             sender=TREASURER)
    assert "À enregistrer : Bob Martin" in both.text()
    assert "Le solde de Bob Martin descendrait sous la limite" in both.text()
    member = await bot.command("enregistrer : Bob Martin → Dave Leroy, 1 h, pain",
                               sender="marie@example.com")
    assert "Seuls les modérateurs et le trésorier" in member.text()
    assert member.message["Reply-To"] is None
    assert await journal(bot) == []


async def test_a_correction_is_a_reversing_entry(bot: Driver) -> None:
    ask = await bot.command("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage",
                            sender=TREASURER)
    await bot.reply_to(ask, "oui", sender=TREASURER)
    [entry] = await journal(bot)
    fix = await bot.command(f"corriger {entry.id}", sender=TREASURER)
    assert "Une écriture inverse l'annulera" in fix.text()
    await bot.reply_to(fix, "oui", sender=TREASURER)
    first, second = await journal(bot)
    assert (second.reverses_id, second.payer, second.payee) == (first.id, "dave@example.org",
                                                               "bob@example.net")
    assert set((await balances(bot)).values()) == {0}
    assert "Correction enregistrée" in bot.sink.to("bob@example.net")[0].message["Subject"]
    again = await bot.command(f"corriger {entry.id}", sender=TREASURER)
    assert "déjà corrigée" in again.text()
    none = await bot.command("corriger 999", sender=TREASURER)
    assert "pas d'écriture n°999" in none.text()


async def test_yearly_statements_and_a_member_who_left_keeps_history(bot: Driver) -> None:
    ask = await bot.command("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage",
                            sender=TREASURER)
    await bot.reply_to(ask, "oui", sender=TREASURER)
    mine = await bot.command("relevé 2026", sender="dave@example.org")
    assert "Relevé 2026 de Dave Leroy" in mine.text()
    assert "+120 points (2h)  Bob Martin  jardinage" in mine.text()
    assert "Solde au 31 décembre : 120 points" in mine.text()
    other = await bot.command("relevé annuel de Bob Martin", sender="marie@example.com")
    assert "Seuls les modérateurs et le trésorier" in other.text()

    leave = await bot.command("quitter", sender="bob@example.net")
    await bot.reply_to(leave, "oui", sender="bob@example.net")
    assert await bot.member("bob@example.net") is None
    kept = await bot.command("statement 2026 bob@example.net", sender=TREASURER)
    assert "-120 points (-2h)  Dave Leroy  jardinage" in kept.text()
    assert "Balance on 31 December: -120 points" in kept.text() or \
        "Solde au 31 décembre : -120 points" in kept.text()
