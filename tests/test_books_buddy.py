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


# --- the monthly letter -------------------------------------------------------------------

def pdf_facts(data: bytes) -> tuple[list[float], str]:
    """The font sizes of the text a PDF shows (the `Tf` of each text block that shows
    something) and that text, read from its content streams."""
    import base64
    import re
    import zlib

    texts = []
    for match in re.finditer(rb"/Filter \[ /ASCII85Decode /FlateDecode \][^>]*>>\s*stream\r?\n"
                             rb"(.*?)~>\s*endstream", data, re.S):
        raw = zlib.decompress(base64.a85decode(re.sub(rb"\s", b"", match.group(1))))
        texts.append(raw.decode("latin-1"))
    content = "\n".join(texts)
    shown_blocks = [b for b in re.findall(r"BT .*? ET", content, re.S) if " Tj" in b]
    sizes = [float(s) for b in shown_blocks for s in re.findall(r"/F\d+ ([\d.]+) Tf", b)]
    shown = "".join(re.findall(r"\((.*?)(?<!\\)\) Tj", content))
    return sizes, shown


async def test_the_monthly_letter_is_mailed_to_the_buddy_once(bot: Driver) -> None:
    from datetime import UTC, datetime

    placeholder = await jeannine(bot)
    ask = await bot.command("pour Jeannine : payer Marie 1h jardinage", sender=BUDDY)
    await bot.reply_to(ask, "oui", sender=BUDDY)
    bot.sink.clear()
    bot.clock.advance(datetime(2026, 12, 1, 9, 0, tzinfo=UTC) - bot.clock.now())
    await bot.service.tick()
    await bot.service.drain()
    [mail] = bot.sink.to(BUDDY)
    assert "Lettre de novembre 2026 pour Jeannine Roux" in mail.message["Subject"]
    assert "pour Jeannine : payer Marie 1h jardinage" in mail.text()
    [attachment] = [p for p in mail.message.iter_attachments()]
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF")
    sizes, shown = pdf_facts(data)
    assert sizes and min(sizes) >= 14  # large type
    assert "Jeannine" in shown and "-60 points" in shown and "Marie Dupont" in shown
    assert "Paul Durand" in shown  # how to answer: through the buddy
    _, rcpts = await bot.service.db.run(_rows)
    assert placeholder not in rcpts

    bot.sink.clear()  # the next round sends nothing again
    await bot.service.tick()
    await bot.service.drain()
    assert bot.sink.to(BUDDY) == []


def test_letters_verb_writes_one_pdf_per_member_without_email(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str) -> None:
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    ok(capsys, config, "db", "upgrade")
    ok(capsys, config, "members", "add", "--list", "sel", BUDDY, "Paul")
    for name in ("Jeannine Roux", "Odette Blanc"):
        ok(capsys, config, "members", "add", "--list", "sel", "--buddy", BUDDY, "--name", name)
    out = tmp_path / "lettres"
    assert ok(capsys, config, "letters", "--list", "sel", "--month", "2026-12", "--out",
              str(out)) == f"2 letter(s) written to {out}\n"
    files = sorted(p.name for p in out.iterdir())
    assert files == ["sel-2026-12-jeannine.roux.pdf", "sel-2026-12-odette.blanc.pdf"]
    sizes, shown = pdf_facts((out / files[0]).read_bytes())
    assert min(sizes) >= 14 and "Jeannine" in shown and "cembre 2026" in shown
    assert "not a month" in fails(capsys, config, "letters", "--list", "sel", "--month",
                                  "décembre", "--out", str(out))


async def test_a_payment_to_a_member_without_email_is_receipted_to_the_buddy(
        bot: Driver) -> None:
    placeholder = await jeannine(bot)
    ask = await bot.command("payer Jeannine Roux 1h repassage", sender="marie@example.com")
    await bot.reply_to(ask, "oui", sender="marie@example.com")
    assert await bot.service.db.run(balance, "sel", placeholder) == 60
    [receipt] = bot.sink.to(BUDDY)
    assert "Vous recevez ce reçu pour Jeannine Roux" in receipt.text()
    assert "Marie Dupont (membre) a enregistré" in receipt.text()
    assert "Solde de Jeannine Roux : 60 points" in receipt.text()
    assert "payés à Jeannine Roux" in bot.sink.to("marie@example.com")[0].message["Subject"]
