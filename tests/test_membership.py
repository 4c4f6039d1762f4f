"""Membership by email, end to end: double opt-in, leave, nomail, language, moderators."""


import pytest

from tests.e2e import Driver
from tests.helpers import make_message


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return []


async def test_join_needs_a_reply_to_the_single_use_address(bot: Driver) -> None:
    reply = await bot.command("inscription", sender="newbie@example.net", name="Jeanne")
    assert await bot.member("newbie@example.net") is None
    msg = reply.message
    assert msg["Auto-Submitted"] == "auto-replied"
    assert str(msg["Reply-To"]).startswith("sel-confirm+")
    assert "répondez simplement à ce message" in reply.text()  # French: the word was French
    assert reply.mail_from == "sel-bounces@example.org"

    await bot.reply_to(reply, "oui", sender="newbie@example.net")
    member = await bot.member("newbie@example.net")
    assert member is not None and member.name == "Jeanne" and member.language == "fr"
    welcome = bot.sink.to("newbie@example.net")
    assert len(welcome) == 1 and "Bienvenue" in welcome[0].message["Subject"]

    # the token is single-use: replying again changes nothing, and says it is done already
    await bot.reply_to(reply, "oui", sender="newbie@example.net")
    again = bot.sink.to("newbie@example.net")
    assert len(again) == 1 and "déjà fait" in again[0].message["Subject"]
    assert "votre inscription à SEL de Saint-Martin" in again[0].text()
    assert "recommencer" not in again[0].text()


async def test_english_join_is_answered_in_english(bot: Driver) -> None:
    reply = await bot.command("subscribe", sender="tom@example.net")
    assert "just reply to this message" in reply.text()


async def test_a_forged_from_cannot_confirm_or_leave(bot: Driver) -> None:
    await bot.add("victim@example.com", "Victim")
    # someone forging the victim's From asks to leave: the confirmation goes to the victim
    reply = await bot.command("quitter", sender="victim@example.com")
    assert await bot.member("victim@example.com") is not None
    # a guessed token confirms nothing
    bot.sink.clear()
    guessed = "sel-confirm+0123456789abcdef@example.org"
    raw = make_message(sender="victim@example.com", to=guessed, body="oui")
    await bot.send(raw, mail_from="victim@example.com", to=guessed)
    assert await bot.member("victim@example.com") is not None
    # only the real token, which only the victim's mailbox received, does
    await bot.reply_to(reply, "ok", sender="victim@example.com")
    assert await bot.member("victim@example.com") is None
    assert "quitté" in bot.sink.to("victim@example.com")[0].message["Subject"]


async def test_a_vacation_reply_to_a_confirmation_confirms_nothing(bot: Driver) -> None:
    reply = await bot.command("join", sender="away@example.net")
    target = str(reply.message["Reply-To"])
    bot.sink.clear()
    raw = make_message(sender="away@example.net", to=target, subject="Out of office",
                       body="I am away.", headers={"Auto-Submitted": "auto-replied"})
    await bot.send(raw, mail_from="away@example.net", to=target)
    assert await bot.member("away@example.net") is None
    assert bot.sink.received == []


async def test_confirmation_requests_to_a_stranger_are_rate_limited(bot: Driver) -> None:
    for _ in range(3):
        await bot.command("join", sender="target@example.net")
    bot.sink.clear()
    for _ in range(4):
        raw = make_message(sender="target@example.net", to="sel-request@example.org", body="join")
        await bot.send(raw, mail_from="target@example.net", to="sel-request@example.org")
    # the fourth and later requests of the day mail nothing but one notice saying until when
    assert len(bot.sink.received) == 1
    assert str(bot.sink.received[0].message["Subject"]).strip().startswith(
        ("I will answer again from", "Je vous répondrai à partir de"))


async def test_nomail_mail_and_language(bot: Driver) -> None:
    await bot.add("marie@example.com", "Marie")
    reply = await bot.command("pause")
    assert "ne recevrez plus" in reply.text()
    member = await bot.member("marie@example.com")
    assert member is not None and member.nomail
    await bot.send(make_message(sender="bob@example.net", body="hello"),
                   mail_from="bob@example.net")  # a held post: the roster stays the same
    reply = await bot.command("reprise\nlangue en")
    assert "receive the list's messages again" in reply.text()  # answered in the new language
    member = await bot.member("marie@example.com")
    assert member is not None and not member.nomail and member.language == "en"


async def test_paused_members_get_no_posts(bot: Driver) -> None:
    await bot.add("marie@example.com", "Marie")
    await bot.add("bob@example.net", "Bob")
    await bot.command("nomail", sender="bob@example.net")
    bot.sink.clear()
    await bot.send(make_message(body="news"))
    assert [r.rcpt_tos for r in bot.sink.received] == [["marie@example.com"]]


async def test_help_is_short_with_examples_from_this_list(bot: Driver) -> None:
    await bot.add("marie@example.com", "Marie Dupont")
    await bot.add("bob@example.net", "Bob Martin")
    reply = await bot.command("aide")
    assert str(reply.message["Subject"]).startswith("Mode d'emploi")
    text = reply.text()
    assert "« j'ai payé 1h30 à Bob pour le jardinage »" in text  # a real first name
    assert len([line for line in text.splitlines() if line.strip()]) <= 15


async def test_what_is_not_understood_is_quoted_in_a_short_answer(bot: Driver) -> None:
    reply = await bot.command("blah blah le truc", sender="x@example.net")
    text = reply.text()
    assert "pas compris" in str(reply.message["Subject"])
    assert "« blah blah le truc »" in text and "aide" in text
    assert len([line for line in text.splitlines() if line.strip()]) <= 8
    assert reply.message["Reply-To"] is None  # nothing to confirm


async def test_an_empty_message_gets_a_short_answer_not_the_manual(bot: Driver) -> None:
    reply = await bot.command("", subject="")
    assert "pas compris votre message (il était vide)" in reply.text()


async def test_moderator_adds_and_removes_by_email_with_confirmation(bot: Driver) -> None:
    reply = await bot.command("ajouter paul@example.org Paul Martin", sender="alice@example.org")
    assert "paul@example.org" in reply.text()
    assert await bot.member("paul@example.org") is None
    await bot.reply_to(reply, "ok", sender="alice@example.org")
    member = await bot.member("paul@example.org")
    assert member is not None and member.name == "Paul Martin"
    assert len(bot.sink.to("paul@example.org")) == 1  # welcome
    assert len(bot.sink.to("alice@example.org")) == 1  # done

    reply = await bot.command("members", sender="alice@example.org")
    assert "paul@example.org (Paul Martin)" in reply.text()

    reply = await bot.command("remove paul@example.org", sender="alice@example.org")
    await bot.reply_to(reply, "ok", sender="alice@example.org")
    assert await bot.member("paul@example.org") is None


async def test_members_add_and_list_are_for_moderators(bot: Driver) -> None:
    await bot.add("marie@example.com", "Marie")
    reply = await bot.command("add intruder@example.net\nmembers")
    assert reply.text().count("réservée aux modérateurs") == 2
    assert await bot.member("intruder@example.net") is None


async def test_command_from_an_auto_reply_is_never_answered(bot: Driver) -> None:
    bot.sink.clear()
    for headers in ({"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"},
                    {"X-Autoreply": "yes"}):
        raw = make_message(to="sel-request@example.org", subject="Réponse automatique",
                           body="help", headers=headers)
        assert await bot.send(raw, to="sel-request@example.org") == 250
    raw = make_message(to="sel-request@example.org", body="help")
    assert await bot.send(raw, mail_from="", to="sel-request@example.org") == 250
    assert bot.sink.received == []
