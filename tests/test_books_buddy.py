"""Members without email and their buddies (issue 19, item 4): the buddy acts for them by
email, each act confirmed by the buddy and noted in the ledger as done by the buddy; no
mail is ever queued for the member's placeholder address. Over SMTP, SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.storage.members import Members
from mailbot.storage.models import Delivery, LedgerEntry
from tests.e2e import Driver
from tests.helpers import balance, make_message
from tests.test_cli import fails, ok

BUDDY = "paul@example.org"


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie Dupont"), ("bob@example.net", "Bob Martin"),
            (BUDDY, "Paul Durand")]


def _add_jeannine(session: Any, config: Any, now: Any) -> str:
    from mailbot.lists.buddies import add_without_email

    return add_without_email(Members(session), config.lists[0], "Jeannine Roux", BUDDY,
                             now).email


async def jeannine(bot: Driver) -> str:
    return await bot.service.db.run(_add_jeannine, bot.service.config, bot.clock.now())


def _rows(session: Any) -> tuple[list[LedgerEntry], list[str]]:
    return (list(session.scalars(select(LedgerEntry))),
            list(session.scalars(select(Delivery.rcpt))))


async def test_a_buddy_pays_for_the_member_in_their_care(bot: Driver) -> None:
    placeholder = await jeannine(bot)
    assert placeholder == "jeannine.roux@sel.no-email.invalid"
    ask = await bot.command("pour Jeannine : payer Marie 1h jardinage", sender=BUDDY,
                            name="Paul")
    assert "Pour Jeannine Roux : paiement de 1h (60 points) à Marie Dupont" in ask.text()
    assert str(ask.message["Reply-To"]).startswith("sel-confirm+")
    await bot.reply_to(ask, "oui", sender=BUDDY)
    entries, rcpts = await bot.service.db.run(_rows)
    [entry] = entries
    assert (entry.payer, entry.payee, entry.amount, entry.recorded_by) == (
        placeholder, "marie@example.com", 60, BUDDY)
    assert await bot.service.db.run(balance, "sel", placeholder) == -60
    assert "Paul Durand (parrain ou marraine) a enregistré" in \
        bot.sink.to("marie@example.com")[0].text()
    for_her = [r for r in bot.sink.to(BUDDY) if "reçu pour Jeannine" in r.text()]
    assert len(for_her) == 1 and "Solde de Jeannine Roux : -60 points" in for_her[0].text()
    assert placeholder not in rcpts  # never any mail for the placeholder

    shown = await bot.command("Pour Jeannine : solde", sender=BUDDY)
    assert "Solde de Jeannine Roux : -60 points (-1h)" in shown.text()


async def test_acting_for_someone_not_in_ones_care_is_refused(bot: Driver) -> None:
    await jeannine(bot)
    refused = await bot.command("pour Jeannine : payer Bob 1h", sender="marie@example.com")
    assert "n'est pas confié(e) à vos soins" in refused.text()
    assert refused.message["Reply-To"] is None
    entries, _ = await bot.service.db.run(_rows)
    assert entries == []


async def test_the_member_without_email_gets_no_list_mail(bot: Driver) -> None:
    placeholder = await jeannine(bot)
    await bot.send(make_message(sender="marie@example.com", subject="Bonjour à tous"))
    assert {r.rcpt_tos[0] for r in bot.sink.received} == {"bob@example.net", BUDDY,
                                                         "marie@example.com"}
    _, rcpts = await bot.service.db.run(_rows)
    assert placeholder not in rcpts


def test_members_add_with_a_buddy_on_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str) -> None:
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    ok(capsys, config, "db", "upgrade")
    err = fails(capsys, config, "members", "add", "--list", "sel", "--buddy", BUDDY,
                "--name", "Jeannine Roux")
    assert f"the buddy {BUDDY} is not a member" in err
    ok(capsys, config, "members", "add", "--list", "sel", BUDDY, "Paul")
    out = ok(capsys, config, "members", "add", "--list", "sel", "--buddy", BUDDY, "--name",
             "Jeannine Roux")
    assert out == ("Jeannine Roux: added without email (jeannine.roux@sel.no-email.invalid), "
                   f"in the care of {BUDDY}\n")
    listed = ok(capsys, config, "members", "list", "--list", "sel")
    assert "jeannine.roux@sel.no-email.invalid\tJeannine Roux" in listed
