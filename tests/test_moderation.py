"""Held posts and moderators' decisions by reply, end to end."""


import pytest

from tests.e2e import Driver
from tests.helpers import Received, make_message


async def hold_a_post(bot: Driver, subject: str = "Vente de légumes") -> Received:
    """A stranger posts; return the notice the moderator got."""
    raw = make_message(sender="stranger@example.org", name="Paul", subject=subject,
                       body="Bonjour à tous,\nje vends des légumes bio.\n")
    assert await bot.send(raw, mail_from="stranger@example.org") == 250
    assert bot.sink.to("marie@example.com") == []  # not distributed
    author = bot.sink.to("stranger@example.org")
    assert len(author) == 1 and "attend un modérateur" in author[0].message["Subject"]
    notices = bot.sink.to("alice@example.org")
    assert len(notices) == 1
    notice = notices[0]
    assert str(notice.message["Reply-To"]).startswith("sel-confirm+")
    assert "stranger@example.org" in notice.text() and "légumes bio" in notice.text()
    return notice


async def test_held_post_approved_by_reply_goes_to_every_member(bot: Driver) -> None:
    notice = await hold_a_post(bot)
    await bot.reply_to(notice, "Approuver", sender="alice@example.org")
    copies = [r for r in bot.sink.received if r.message["List-Id"]]
    assert sorted(r.rcpt_tos[0] for r in copies) == ["bob@example.net", "marie@example.com"]
    assert copies[0].message["Subject"] == "[sel] Vente de légumes"
    done = bot.sink.to("alice@example.org")
    assert len(done) == 1 and "2 membre(s)" in done[0].text()
    # a second decision on the same message does nothing more
    await bot.reply_to(notice, "approve", sender="alice@example.org")
    assert [r.rcpt_tos for r in bot.sink.received] == [["alice@example.org"]]
    assert "déjà été traité" in bot.sink.received[0].text()


async def test_reject_with_reason_tells_the_author(bot: Driver) -> None:
    notice = await hold_a_post(bot)
    await bot.reply_to(notice, "refuser Pas de publicité ici, merci.", sender="alice@example.org")
    told = bot.sink.to("stranger@example.org")
    assert len(told) == 1 and "Pas de publicité ici, merci." in told[0].text()
    assert bot.sink.to("marie@example.com") == []


async def test_discard_is_silent(bot: Driver) -> None:
    notice = await hold_a_post(bot)
    await bot.reply_to(notice, "jeter", sender="alice@example.org")
    assert bot.sink.to("stranger@example.org") == []
    assert bot.sink.to("marie@example.com") == []


async def test_only_a_moderator_can_decide(bot: Driver) -> None:
    notice = await hold_a_post(bot)
    await bot.reply_to(notice, "approve", sender="marie@example.com")
    assert [r.rcpt_tos for r in bot.sink.received] == [["marie@example.com"]]
    assert "Seul un modérateur" in bot.sink.received[0].text()


async def test_an_unclear_reply_changes_nothing_and_says_how(bot: Driver) -> None:
    notice = await hold_a_post(bot)
    await bot.reply_to(notice, "Je ne sais pas trop...", sender="alice@example.org")
    assert [r.rcpt_tos for r in bot.sink.received] == [["alice@example.org"]]
    assert "approuver, refuser" in bot.sink.received[0].text()
    await bot.reply_to(notice, "approve", sender="alice@example.org")
    assert len(bot.sink.to("bob@example.net")) == 1


@pytest.mark.parametrize("rules", ['[posting]\nwho = "moderators"\n'])
async def test_moderators_only_list_holds_members(bot: Driver) -> None:
    await bot.send(make_message(body="hello"))
    assert bot.sink.to("bob@example.net") == []
    assert len(bot.sink.to("alice@example.org")) == 1


@pytest.mark.parametrize("rules", ['[posting]\nfirst_post_moderated = true\n'])
async def test_first_post_is_held_then_later_posts_pass(bot: Driver) -> None:
    await bot.send(make_message(body="first"))
    notice = bot.sink.to("alice@example.org")[0]
    await bot.reply_to(notice, "approve", sender="alice@example.org")
    assert len(bot.sink.to("bob@example.net")) == 1
    bot.sink.clear()
    await bot.send(make_message(body="second"))
    assert len(bot.sink.to("bob@example.net")) == 1
    assert bot.sink.to("alice@example.org") == []


@pytest.mark.parametrize("rules", ['[posting]\nwho = "anyone"\nreply_to = "author"\n'
                                   'from_rewrite = "always"\n'])
async def test_open_list_with_from_rewriting(bot: Driver) -> None:
    await bot.send(make_message(sender="guest@example.org", name="Guest", body="hi"),
                   mail_from="guest@example.org")
    copy = bot.sink.to("bob@example.net")[0].message
    assert copy["From"] == "Guest via SEL de Saint-Martin <sel@example.org>"
    assert copy["Reply-To"] == "Guest <guest@example.org>"
    assert copy["X-Original-From"] == "Guest <guest@example.org>"


async def test_mail_to_owner_reaches_the_moderators(bot: Driver) -> None:
    raw = make_message(sender="someone@example.net", to="sel-owner@example.org",
                       subject="Question", body="Bonjour les modérateurs")
    await bot.send(raw, mail_from="someone@example.net", to="sel-owner@example.org")
    got = bot.sink.to("alice@example.org")
    assert len(got) == 1 and got[0].message["Subject"] == "Question"
    assert got[0].message["X-Loop"] == "sel-owner@example.org"
