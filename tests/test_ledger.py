"""The time ledger by email, end to end, and transfers racing on a real database."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from mailbot.config import Config
from mailbot.storage import db
from mailbot.storage.models import LedgerEntry
from tests.e2e import Driver
from tests.helpers import add_member, balance, make_message, transfer


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie Dupont"), ("bob@example.net", "Bob Martin"),
            ("chloe@example.fr", "Chloé Petit")]


async def balances(bot: Driver) -> dict[str, int]:
    emails = ["marie@example.com", "bob@example.net", "chloe@example.fr"]
    return {e: await bot.service.db.run(balance, "sel", e) for e in emails}


async def test_pay_is_confirmed_by_reply_then_both_get_a_receipt(bot: Driver) -> None:
    ask = await bot.command("payer Bob 1h30 pour : jardinage")  # one "pour" in the answer
    assert "payez 90 points (1h30) à Bob Martin pour « jardinage »" in ask.text()
    assert str(ask.message["Reply-To"]).startswith("sel-confirm+")
    assert (await balances(bot))["bob@example.net"] == 0  # nothing moves before the reply

    await bot.reply_to(ask, "oui", sender="marie@example.com")
    assert await balances(bot) == {"marie@example.com": -90, "bob@example.net": 90,
                                   "chloe@example.fr": 0}
    payer = bot.sink.to("marie@example.com")[0]
    payee = bot.sink.to("bob@example.net")[0]
    assert "payés à Bob Martin" in payer.message["Subject"]  # names, not addresses
    assert "Votre solde : -90 points (-1h30)" in payer.text()
    assert "reçus de Marie Dupont" in payee.message["Subject"]

    bot.sink.clear()
    await bot.reply_to(ask, "oui", sender="marie@example.com")  # single use
    assert (await balances(bot))["bob@example.net"] == 90
    again = bot.sink.to("marie@example.com")
    assert len(again) == 1 and "déjà fait" in again[0].message["Subject"]
    assert "90 points (1h30) à Bob Martin, pour jardinage" in again[0].text()
    assert "ne le refaites pas" in again[0].text() and bot.sink.to("bob@example.net") == []
    statement = await bot.command("relevé", sender="bob@example.net")
    assert "+90 points (1h30)  Marie Dupont  jardinage" in statement.text()
    solde = await bot.command("solde", sender="bob@example.net")
    assert "Votre solde : 90 points (1h30)" in solde.text()


async def test_unconfirmed_or_forged_payments_move_nothing(bot: Driver) -> None:
    await bot.command("pay Bob 60", sender="marie@example.com")  # never confirmed
    guessed = "sel-confirm+00000000000000000000000000000000@example.org"
    await bot.send(make_message(sender="marie@example.com", to=guessed, body="yes"),
                   to=guessed)
    forged = await bot.command("pay Chloé 60", sender="bob@example.net")
    # someone forging Bob's From never sees the token: only Bob's mailbox does
    assert forged.rcpt_tos == ["bob@example.net"]
    assert set((await balances(bot)).values()) == {0}


@pytest.mark.parametrize("rules", ['[exchange]\nmin_balance = -100\n'])
async def test_limits_are_checked_when_asked_and_again_when_confirmed(bot: Driver) -> None:
    refused = await bot.command("pay Bob 2h")
    assert "descendrait sous -100 points" in refused.text()
    assert refused.message["Reply-To"] is None  # nothing to confirm
    first = await bot.command("pay Bob 60")
    second = await bot.command("pay Chloé 60")  # each alone is fine, both are not
    await bot.reply_to(first, "ok", sender="marie@example.com")
    await bot.reply_to(second, "ok", sender="marie@example.com")
    told = bot.sink.to("marie@example.com")
    assert len(told) == 1 and "Paiement non effectué" in told[0].message["Subject"]
    assert (await balances(bot))["marie@example.com"] == -60


async def test_payee_by_address_first_name_and_close_matches(bot: Driver) -> None:
    await bot.add("marie.curie@example.org", "Marie Curie")
    ambiguous = await bot.command("pay Marie 30", sender="bob@example.net")
    assert "Marie Dupont <marie@example.com>" in ambiguous.text()
    assert "Marie Curie <marie.curie@example.org>" in ambiguous.text()
    assert ambiguous.message["Reply-To"] is None
    # a typo finds the one member it can be (rapidfuzz), named in full in the confirmation
    typo = await bot.command("payer Chloe Peti 30", sender="bob@example.net")
    assert "30 points (0h30) à Chloé Petit" in typo.text()
    assert str(typo.message["Reply-To"]).startswith("sel-confirm+")
    by_address = await bot.command("pay marie.curie@example.org 45min courses",
                                   sender="bob@example.net")
    assert "45 points (0h45) to Marie Curie" in by_address.text() or \
        "45 points (0h45) à Marie Curie" in by_address.text()
    to_self = await bot.command("pay Bob 30", sender="bob@example.net")
    assert "soi-même" in to_self.text()


async def test_concurrent_transfers_never_overdraw(config: Config) -> None:
    """Eight threads, each in its own transaction, race to pay 60 from one payer whose
    limit allows two: exactly two land, on SQLite and on PostgreSQL."""
    database = db.Database(config.server.database_url, threads=8)
    db.upgrade(database.engine)
    mlist = config.lists[0]
    import dataclasses
    rules = dataclasses.replace(mlist.rules, exchange=dataclasses.replace(
        mlist.rules.exchange, min_balance=-120))
    mlist = dataclasses.replace(mlist, rules=rules)
    now = datetime.now(UTC)
    for email in ("payer@example.org", *(f"p{i}@example.org" for i in range(8))):
        database.transaction(add_member, "sel", email, "", now)
    start = threading.Barrier(8)
    outcomes: list[str | None] = []

    def race(i: int) -> None:
        start.wait()
        outcomes.append(database.transaction(lambda session: transfer(
            session, mlist, "payer@example.org", f"p{i}@example.org", 60, "", now,
            recorded_by="payer@example.org")))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert sorted(outcomes, key=str) == [None, None] + ["below-minimum"] * 6
        assert database.transaction(balance, "sel", "payer@example.org") == -120
        total = database.transaction(lambda s: s.scalar(select(func.count(LedgerEntry.id))))
        assert total == 2
    finally:
        database.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_transfers_through_the_database_keep_the_books(config: Config,
                                                               seed: int) -> None:
    """Random payments between five members, through the real transfer and database: after
    each one the balances sum to zero and stay within the limits; refused ones write
    nothing."""
    import random

    rng = random.Random(seed)
    database = db.Database(config.server.database_url)
    db.upgrade(database.engine)
    mlist, now = config.lists[0], datetime.now(UTC)
    limits = mlist.rules.exchange
    people = [f"m{i}@example.org" for i in range(5)]
    try:
        for email in people:
            database.transaction(add_member, "sel", email, "", now)
        for _ in range(40):
            payer, payee = rng.choice(people), rng.choice(people)
            amount = rng.randint(1, 1500)
            before = database.transaction(lambda s: s.scalar(select(func.count(LedgerEntry.id))))
            refusal = database.transaction(lambda s, p=payer, q=payee, a=amount: transfer(
                s, mlist, p, q, a, "", now, recorded_by=p))
            after = database.transaction(lambda s: s.scalar(select(func.count(LedgerEntry.id))))
            assert after == before + (refusal is None)
            balances = [database.transaction(balance, "sel", e) for e in people]
            assert sum(balances) == 0
            assert all(limits.min_balance <= b <= limits.max_balance for b in balances)
    finally:
        database.close()


async def test_a_reply_to_the_question_asked_back_carries_the_payment_on(bot: Driver) -> None:
    """Two Maries: the bot asks which; the answer alone is enough to go on (and the payment
    is still confirmed by reply: nothing is guessed silently)."""
    await bot.add("marie.curie@example.org", "Marie Curie")
    question = await bot.command("j'ai payé 2 heures à Marie pour le jardinage",
                                 sender="bob@example.net")
    assert "Une question" in str(question.message["Subject"])
    assert question.message["Reply-To"] is None  # a reply goes to the robot, as any
    bot.sink.clear()
    await bot.reply_to(question, "Marie Curie", sender="bob@example.net")
    [ask] = bot.sink.to("bob@example.net")
    assert "120 points (2h) à Marie Curie pour « jardinage »" in ask.text()
    assert str(ask.message["Reply-To"]).startswith("sel-confirm+")
    await bot.reply_to(ask, "oui", sender="bob@example.net")
    assert (await balances(bot))["bob@example.net"] == -120
    # the question was answered once: answering again starts afresh (and is not a payment)
    bot.sink.clear()
    await bot.reply_to(question, "Marie Curie", sender="bob@example.net")
    assert "120 points" not in bot.sink.to("bob@example.net")[0].text()


async def test_cancelling_by_replying_to_a_receipt_goes_to_the_moderators(bot: Driver) -> None:
    """The journal is append-only: "annule, c'est une erreur" in reply to a receipt reaches
    the moderators at once (with her words and entries); nothing moves, she is told."""
    ask = await bot.command("payer Bob 1h30 jardinage")
    await bot.reply_to(ask, "oui", sender="marie@example.com")
    receipt = bot.sink.to("marie@example.com")[0]
    bot.sink.clear()
    await bot.reply_to(receipt, "Annule, c'est une erreur.",
                       sender="marie@example.com")
    [told] = bot.sink.to("marie@example.com")
    assert "Transmis aux modérateurs" in str(told.message["Subject"])
    assert "écriture inverse" in told.text()
    [moderator] = bot.sink.to("alice@example.org")
    assert "Marie Dupont conteste un échange" in str(moderator.message["Subject"])
    assert "| Annule, c'est une erreur" in moderator.text()
    assert "-90 points  Bob Martin  jardinage" in moderator.text()
    assert (await balances(bot))["marie@example.com"] == -90  # nothing moves by itself
