"""Join policies (issue 19, item 1): open, confirm, approve by a moderator's reply; and a
newcomer's limited credit. End to end over SMTP, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from tests.e2e import Driver
from tests.helpers import balance, make_message

APPROVE = '[membership]\njoin = "approve"\n'


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie Dupont"), ("bob@example.net", "Bob Martin")]


async def _confirmed_join(bot: Driver, words: str) -> None:
    ask = await bot.command(words, sender="jeanne@example.net", name="Jeanne Petit")
    assert str(ask.message["Reply-To"]).startswith("sel-confirm+")
    await bot.reply_to(ask, "oui", sender="jeanne@example.net")


@pytest.mark.parametrize("rules", [APPROVE])
async def test_approve_asks_the_moderators_with_the_newcomers_words(bot: Driver) -> None:
    await _confirmed_join(bot, "Bonjour, je voudrais m'inscrire, je fais du pain le samedi.")
    assert await bot.member("jeanne@example.net") is None  # waits for a moderator
    waiting = bot.sink.to("jeanne@example.net")
    assert len(waiting) == 1 and "attend l'accord des modérateurs" in \
        waiting[0].message["Subject"]
    asked = bot.sink.to("alice@example.org")
    assert len(asked) == 1 and "Jeanne Petit" in asked[0].message["Subject"]
    assert "> Bonjour, je voudrais m'inscrire, je fais du pain le samedi." in asked[0].text()
    assert str(asked[0].message["Reply-To"]).startswith("sel-confirm+")

    # a member who is not a moderator cannot approve, even with the token
    await bot.reply_to(asked[0], "approuver", sender="bob@example.net")
    assert await bot.member("jeanne@example.net") is None
    assert "Seul un modérateur" in bot.sink.to("bob@example.net")[0].text()

    await bot.reply_to(asked[0], "approuver", sender="alice@example.org")
    member = await bot.member("jeanne@example.net")
    assert member is not None and member.name == "Jeanne Petit"
    assert "Bienvenue" in bot.sink.to("jeanne@example.net")[0].message["Subject"]
    assert "est inscrit(e)" in bot.sink.to("alice@example.org")[0].text()

    await bot.reply_to(asked[0], "refuser", sender="alice@example.org")  # decided already
    assert "déjà été traitée" in bot.sink.to("alice@example.org")[0].text()
    assert await bot.member("jeanne@example.net") is not None


@pytest.mark.parametrize("rules", [APPROVE])
async def test_a_refusal_tells_the_newcomer_why_in_english(bot: Driver) -> None:
    ask = await bot.command("Hello, I would like to join please", sender="tom@example.net",
                            name="Tom")
    await bot.reply_to(ask, "yes", sender="tom@example.net")
    assert "waits for the moderators" in bot.sink.to("tom@example.net")[0].message["Subject"]
    asked = bot.sink.to("alice@example.org")[0]
    await bot.reply_to(asked, "refuser : nous ne prenons que les habitants du quartier",
                       sender="alice@example.org")
    assert await bot.member("tom@example.net") is None
    told = bot.sink.to("tom@example.net")
    assert len(told) == 1 and "was not accepted" in told[0].message["Subject"]
    assert "Their reason: nous ne prenons que les habitants du quartier" in told[0].text()


@pytest.mark.parametrize("rules", [APPROVE])
async def test_an_unclear_moderator_answer_decides_nothing(bot: Driver) -> None:
    await _confirmed_join(bot, "inscription")
    asked = bot.sink.to("alice@example.org")[0]
    await bot.reply_to(asked, "je ne sais pas trop", sender="alice@example.org")
    assert "pas compris votre décision" in bot.sink.to("alice@example.org")[0].text()
    assert await bot.member("jeanne@example.net") is None


async def test_confirm_is_the_default_and_needs_no_moderator(bot: Driver) -> None:
    await _confirmed_join(bot, "inscription")
    assert await bot.member("jeanne@example.net") is not None
    assert bot.sink.to("alice@example.org") == []


@pytest.mark.parametrize("rules", ['[membership]\njoin = "open"\n'])
async def test_open_joins_at_once(bot: Driver) -> None:
    bot.sink.clear()
    raw = make_message(sender="jeanne@example.net", to="sel-request@example.org",
                       subject="", body="inscription", name="Jeanne")
    await bot.send(raw, mail_from="jeanne@example.net", to="sel-request@example.org")
    got = {str(r.message["Subject"]): r for r in bot.sink.to("jeanne@example.net")}
    assert set(got) == {"Bienvenue sur SEL de Saint-Martin", "C'est fait (SEL de Saint-Martin)"}
    answer = got["C'est fait (SEL de Saint-Martin)"]
    assert answer.message["Reply-To"] is None and "vous êtes inscrit" in answer.text()
    assert await bot.member("jeanne@example.net") is not None


NEWCOMER = '[exchange]\nnewcomer_min_balance = -120\nnewcomer_for = "30d"\n'


@pytest.mark.parametrize("rules", [NEWCOMER])
async def test_a_newcomers_credit_is_limited_for_a_while(bot: Driver) -> None:
    bot.clock.advance(timedelta(days=40))  # Marie and Bob joined long ago
    await _confirmed_join(bot, "inscription")
    refused = await bot.command("payer Bob 3h", sender="jeanne@example.net")
    assert "sous -120 points" in refused.text()
    assert "limite des nouveaux membres" in refused.text()
    assert refused.message["Reply-To"] is None  # nothing to confirm, nothing written
    ok = await bot.command("payer Bob 2h", sender="jeanne@example.net")
    assert str(ok.message["Reply-To"]).startswith("sel-confirm+")
    # an older member is not limited so
    older = await bot.command("payer Bob 3h", sender="marie@example.com")
    assert str(older.message["Reply-To"]).startswith("sel-confirm+")
    bot.clock.advance(timedelta(days=31))
    later = await bot.command("payer Marie 3h", sender="jeanne@example.net")
    assert str(later.message["Reply-To"]).startswith("sel-confirm+")
    await bot.reply_to(later, "oui", sender="jeanne@example.net")
    assert await bot.service.db.run(balance, "sel", "jeanne@example.net") == -180
