"""The moderators' word by email (issue 22): the list's charter, member moderation, a
private reminder, bans, the flood brake, and how moderators hear of changes to the roster
(`membership.notify`). End to end: SMTP in, the real daemon, SMTP out to a sink, on SQLite
and PostgreSQL, in French and English."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mailbot.config import Config, load_config
from mailbot.config.addresses import resolve
from mailbot.core.errors import ConfigError
from mailbot.storage.members import Members
from mailbot.storage.moderating import Bans, MembershipLog
from tests.e2e import Driver
from tests.helpers import Received, Sink, make_message, write_config
from tests.test_outbound import note_turns

ALICE, CAROL = "alice@example.org", "carol@example.org"
MARIE, BOB = "marie@example.com", "bob@example.net"
CHARTER = ("Charte du SEL de Saint-Martin\n"
           "1. Pas d'attaques personnelles.\n"
           "2. Pas d'attaques contre d'autres associations.\n"
           "3. Nous sommes là pour construire quelque chose ensemble.\n")
WITH_CHARTER = '[moderation]\ncharter_file = "charte.txt"\n'


@pytest.fixture
def rules() -> str:
    return WITH_CHARTER


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str) -> Config:
    path = write_config(tmp_path, database_url, sink_port=sink.port, rules=rules,
                        moderators=(ALICE, CAROL))
    (tmp_path / "rules" / "charte.txt").write_text(CHARTER, encoding="utf-8")
    return load_config(path)


async def speaks_english(bot: Driver, email: str) -> None:
    def set_language(session: Any) -> None:
        member = Members(session).get("sel", email)
        assert member is not None
        member.language = "en"
    await bot.service.db.run(set_language)


async def post(bot: Driver, sender: str, subject: str, name: str = "") -> None:
    bot.sink.clear()
    raw = make_message(sender=sender, name=name, subject=subject, body="Bonjour à tous.\n")
    assert await bot.send(raw, mail_from=sender) == 250


def copies(bot: Driver) -> list[Received]:
    return [r for r in bot.sink.received if r.message["List-Id"]]


def attachments(received: Received) -> dict[str, str]:
    return {str(part.get_filename()): str(part.get_content()).replace("\r\n", "\n")
            for part in received.message.iter_attachments()}


# --- 1. the charter --------------------------------------------------------------------------

@pytest.mark.parametrize(("words", "sender", "english"), [
    ("charte", MARIE, False), ("règles", MARIE, False), ("Regles", MARIE, False),
    ("Bonjour, pourriez-vous m'envoyer la charte de la liste ? Merci", MARIE, False),
    ("Où puis-je lire les règles de la liste ?", MARIE, False),
    ("charter", BOB, True), ("rules", BOB, True),
    ("Hello, could you send me the list's charter please?", BOB, True),
])
async def test_the_charter_is_sent_on_request(bot: Driver, words: str, sender: str,
                                              english: bool) -> None:
    if english:
        await speaks_english(bot, sender)
    reply = await bot.command(words, sender=sender)
    text = reply.text()
    assert "Pas d'attaques personnelles." in text and "construire quelque chose" in text
    assert ("charter" if english else "charte") in str(reply.message["Subject"]).lower()


async def test_a_stranger_may_read_the_charter(bot: Driver) -> None:
    reply = await bot.command("charte", sender="curious@example.org")
    assert "Pas d'attaques personnelles." in reply.text()


@pytest.mark.parametrize("rules", [""])
async def test_a_list_without_charter_says_so(bot: Driver) -> None:
    reply = await bot.command("charte")
    assert "pas de charte" in reply.text() and "sel-owner@example.org" in reply.text()


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_welcome_says_in_one_line_how_to_get_the_charter(bot: Driver,
                                                                  language: str) -> None:
    word = "inscription" if language == "fr" else "subscribe"
    asked = await bot.command(word, sender="newbie@example.org", name="Nina")
    await bot.reply_to(asked, "oui", sender="newbie@example.org")
    welcome = bot.sink.to("newbie@example.org")
    assert len(welcome) == 1
    text = welcome[0].text()
    line = [li for li in text.splitlines() if "charte" in li or "charter" in li]
    assert len(line) == 1
    assert ("« charte »" if language == "fr" else '"charter"') in line[0]
    assert "Pas d'attaques personnelles" not in text  # not the whole text


def test_check_fails_on_a_missing_or_empty_charter(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                        maildir=tmp_path / "outbox", rules=WITH_CHARTER)
    with pytest.raises(ConfigError, match=r"moderation\.charter_file.*file not found"):
        load_config(path)
    (tmp_path / "rules" / "charte.txt").write_text("  \n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"moderation\.charter_file.*empty"):
        load_config(path)
    from mailbot.cli import main
    assert main(["-c", str(path), "check"]) == 1
    (tmp_path / "rules" / "charte.txt").write_text(CHARTER, encoding="utf-8")
    assert load_config(path).lists[0].charter == CHARTER
    assert main(["-c", str(path), "check"]) == 0


# --- 2. member moderation --------------------------------------------------------------------

async def test_moderating_a_member_by_name_holds_their_posts_then_freeing_them(
        bot: Driver) -> None:
    reply = await bot.command("modérer Marie", sender=ALICE, name="Alice")
    assert "vous seront soumis" in reply.text()
    told = bot.sink.to(MARIE)
    assert len(told) == 1  # told once, privately, with the charter attached
    assert "relus" in told[0].text() and "charte ci-jointe" in told[0].text()
    assert attachments(told[0]) == {"charte.txt": CHARTER}
    assert str(told[0].message["Reply-To"]) == "sel-owner@example.org"
    assert bot.sink.to(BOB) == [] and copies(bot) == []  # never public
    assert len(bot.sink.to(CAROL)) == 0  # notify = daily (the default): in the summary

    await post(bot, MARIE, "Encore moi", name="Marie")
    assert copies(bot) == []
    notices = bot.sink.to(ALICE)
    assert len(notices) == 1 and "sous modération" in notices[0].text()
    assert bot.sink.to(MARIE) == []  # she was told once, not at every post
    await post(bot, MARIE, "Et encore", name="Marie")
    assert bot.sink.to(MARIE) == [] and copies(bot) == []

    roster = await bot.command("membres", sender=ALICE)
    assert "marie@example.com (Marie) — sous modération" in roster.text()
    assert "bob@example.net (Bob)\r\n" in roster.text()
    again = await bot.command("modérer marie@example.com", sender=ALICE)
    assert "déjà sous modération" in again.text()
    assert bot.sink.to(MARIE) == []

    freed = await bot.command("libérer marie@example.com", sender=ALICE)
    assert "partent de nouveau directement" in freed.text()
    assert len(bot.sink.to(MARIE)) == 1
    await post(bot, MARIE, "Me revoilà", name="Marie")
    assert sorted(r.rcpt_tos[0] for r in copies(bot)) == [BOB, MARIE]


async def test_moderate_and_unmoderate_in_english(bot: Driver) -> None:
    await speaks_english(bot, BOB)
    await bot.add(ALICE, "Alice")  # a moderator who is also a member, in English
    await speaks_english(bot, ALICE)
    reply = await bot.command("moderate bob@example.net", sender=ALICE)
    assert "will come to you before going out" in reply.text()
    told = bot.sink.to(BOB)
    assert len(told) == 1 and "read by one of them" in told[0].text()
    assert attachments(told[0]) == {"charter.txt": CHARTER}
    await post(bot, BOB, "Hello", name="Bob")
    assert copies(bot) == [] and "under moderation" in bot.sink.to(ALICE)[0].text()
    freed = await bot.command("unmoderate Bob", sender=ALICE)
    assert "go straight out again" in freed.text()
    assert "go straight" in bot.sink.to(BOB)[0].text()


@pytest.mark.parametrize("rules", [WITH_CHARTER + 'moderated_for = "2d"\n'])
async def test_moderation_lifts_itself_after_moderated_for(bot: Driver) -> None:
    reply = await bot.command("modérer Bob", sender=ALICE)
    assert "pendant 2 jour(s)" in reply.text()
    assert "jusqu'au" in bot.sink.to(BOB)[0].text()
    bot.clock.advance(timedelta(days=1, hours=23))
    bot.sink.clear()
    await bot.service.drain()
    assert bot.sink.to(BOB) == []
    assert (await bot.member(BOB)).moderated_at is not None
    bot.clock.advance(timedelta(hours=1, minutes=1))
    await bot.service.drain()
    assert len(bot.sink.to(BOB)) == 1 and "directement" in bot.sink.to(BOB)[0].text()
    assert (await bot.member(BOB)).moderated_at is None
    await bot.service.drain()  # once only
    assert len(bot.sink.to(BOB)) == 1
    await post(bot, BOB, "Libre", name="Bob")
    assert len(copies(bot)) == 2


@pytest.mark.parametrize(("words", "english"), [
    ("modérer bob@example.net", False), ("libérer Bob", False), ("rappel Bob", False),
    ("bannir bob@example.net", False), ("débannir bob@example.net", False),
    ("moderate bob@example.net", True), ("remind Bob", True), ("ban Bob", True),
    ("unmoderate Bob", True), ("unban bob@example.net", True),
])
async def test_a_member_who_tries_is_told_it_is_for_moderators(bot: Driver, words: str,
                                                                english: bool) -> None:
    if english:
        await speaks_english(bot, MARIE)
    reply = await bot.command(words, sender=MARIE)
    said = "for the list's moderators only" if english else "réservée aux modérateurs"
    assert said in reply.text()
    assert bot.sink.to(BOB) == [] and bot.sink.to(ALICE) == []
    bob = await bot.member(BOB)
    assert bob is not None and bob.moderated_at is None


@pytest.mark.parametrize(("sentence", "says"), [
    ("Bonjour, pouvez-vous mettre Bob sous modération ? Merci, Alice", "vous seront soumis"),
    ("Please put Bob under moderation, thanks.", "will come to you before going out"),
])
async def test_moderation_asked_in_a_sentence(bot: Driver, sentence: str, says: str) -> None:
    if "Please" in sentence:
        await bot.add(ALICE, "Alice")
        await speaks_english(bot, ALICE)
    reply = await bot.command(sentence, sender=ALICE)
    assert says in reply.text()
    bob = await bot.member(BOB)
    assert bob is not None and bob.moderated_at is not None


async def test_an_unknown_or_ambiguous_name_asks_back(bot: Driver) -> None:
    await bot.add("jean.curie@example.org", "Jean Curie")
    await bot.add("jean.dubois@example.org", "Jean Dubois")
    reply = await bot.command("modérer Jean", sender=ALICE)
    assert "Plusieurs membres" in reply.text()
    reply = await bot.command("modérer Zébulon", sender=ALICE)
    assert "Je ne trouve pas" in reply.text()
    reply = await bot.command("modérer nobody@example.org", sender=ALICE)
    assert "n'est pas inscrit" in reply.text()


# --- 3. the private reminder -----------------------------------------------------------------

@pytest.mark.parametrize("english", [False, True])
async def test_a_reminder_comes_from_the_moderators_as_a_group(bot: Driver,
                                                               english: bool) -> None:
    if english:
        await speaks_english(bot, MARIE)
    if english:
        await bot.add(ALICE, "Alice")
        await speaks_english(bot, ALICE)
    reply = await bot.command("remind Marie" if english else "rappel Marie", sender=ALICE,
                              name="Alice")
    assert ("from the moderators (your name is not in it)" if english else
            "au nom des modérateurs (votre nom n'y figure pas)") in reply.text()
    told = bot.sink.to(MARIE)
    assert len(told) == 1
    text = told[0].text()
    assert "Pas d'attaques personnelles." in text
    assert ("friendliness" if english else "en toute amitié") in text
    assert "alice" not in told[0].raw.decode().lower()  # the moderator who asked is not named
    assert str(told[0].message["Reply-To"]) == "sel-owner@example.org"
    note = bot.sink.to(CAROL)
    assert len(note) == 1 and "Marie <marie@example.com>" in note[0].text()
    assert ("Alice" if english else ALICE) in note[0].text()  # for moderators: who asked
    assert copies(bot) == [] and bot.sink.to(BOB) == []

    def reminded(session: Any) -> dict[str, Any]:
        return dict(MembershipLog(session).latest("sel", [MARIE], ("remind",)))
    events = await bot.service.db.run(reminded)
    assert events[MARIE].by == ALICE


# --- 4. bans ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("ban", "unban", "confirm_word"), [
    ("bannir bob@example.net", "débannir bob@example.net", "Pour confirmer l'exclusion"),
    ("ban Bob", "unban bob@example.net", "To confirm banning"),
])
async def test_a_ban_is_confirmed_by_reply_removes_and_refuses_then_unban(
        bot: Driver, ban: str, unban: str, confirm_word: str) -> None:
    await bot.add(ALICE, "Alice")
    if ban.startswith("ban "):
        await speaks_english(bot, ALICE)
    asked = await bot.command(ban, sender=ALICE)
    assert confirm_word in asked.text()
    assert str(asked.message["Reply-To"]).startswith("sel-confirm+")
    assert await bot.member(BOB) is not None  # nothing before the reply
    await bot.reply_to(asked, "oui", sender=ALICE)
    assert await bot.member(BOB) is None
    done = bot.sink.to(ALICE)
    assert len(done) == 1
    assert "seront refusés" in done[0].text() or "will be refused" in done[0].text()
    assert bot.sink.to(BOB) == []

    await post(bot, BOB, "Je reviens", name="Bob")  # refused, kept, never answered
    assert bot.sink.received == []
    bot.sink.clear()
    raw = make_message(sender=BOB, to="sel-request@example.org", subject="inscription",
                       body="")
    assert await bot.send(raw, mail_from=BOB, to="sel-request@example.org") == 250
    assert bot.sink.received == []

    def bans(session: Any) -> list[str]:
        return [b.email for b in Bans(session).all("sel")]
    assert await bot.service.db.run(bans) == [BOB]

    lifted = await bot.command(unban, sender=ALICE)
    assert "levée" in lifted.text() or "lifted" in lifted.text()
    assert await bot.service.db.run(bans) == []
    again = await bot.command("inscription", sender=BOB)
    assert str(again.message["Reply-To"]).startswith("sel-confirm+")


async def test_a_moderator_cannot_be_banned_nor_banned_twice(bot: Driver) -> None:
    reply = await bot.command("bannir carol@example.org", sender=ALICE)
    assert "modérateur" in reply.text()
    reply = await bot.command("débannir nobody@example.org", sender=ALICE)
    assert "n'est pas exclu" in reply.text()


# --- 5. the flood brake ----------------------------------------------------------------------

@pytest.mark.parametrize("rules", ['[posting]\nmax_posts_per_day = 2\n'])
async def test_posts_past_the_day_s_number_are_held_and_the_member_told_once(
        bot: Driver) -> None:
    bot.clock.advance(timedelta(hours=-3))  # 10:00 in Paris
    for n in (1, 2):
        await post(bot, MARIE, f"Message {n}", name="Marie")
        assert len(copies(bot)) == 2
    await post(bot, MARIE, "Message 3", name="Marie")
    assert copies(bot) == []
    told = bot.sink.to(MARIE)
    assert len(told) == 1 and "2 message(s) aujourd'hui" in told[0].text()
    assert "plus de 2 message(s)" in bot.sink.to(ALICE)[0].text()
    await post(bot, MARIE, "Message 4", name="Marie")
    assert copies(bot) == [] and bot.sink.to(MARIE) == []  # told once
    await post(bot, BOB, "Bob writes", name="Bob")  # others are not braked
    assert len(copies(bot)) == 2
    bot.clock.advance(timedelta(hours=15))  # the next day in Paris
    await post(bot, MARIE, "Message du lendemain", name="Marie")
    assert len(copies(bot)) == 2


@pytest.mark.parametrize("rules", ['[posting]\nmax_posts_per_day = 2\n'])
async def test_the_flood_brake_counts_the_posts_of_the_same_turn(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three posts handled in one transaction: the counts are written as it commits, and
    the third is held all the same (the turn counts what it let through)."""
    bot.clock.advance(timedelta(hours=-3))  # 10:00 in Paris
    turns = note_turns(bot.service, monkeypatch, 60.0)
    recipient = resolve("sel@example.org", bot.service.config.lists, "-")
    assert recipient is not None
    bot.sink.clear()
    for n in (1, 2, 3):
        await bot.service.accept(make_message(sender=MARIE, name="Marie", subject=f"Message {n}",
                                              body="Bonjour à tous.\n"), MARIE,
                                 [("sel@example.org", recipient)])
    await bot.service.drain()
    assert turns[0] == 3  # one turn for the three
    assert sorted(str(r.message["Subject"]) for r in copies(bot)) == [
        "[sel] Message 1", "[sel] Message 1", "[sel] Message 2", "[sel] Message 2"]
    told = [r for r in bot.sink.to(MARIE) if not r.message["List-Id"]]
    assert len(told) == 1 and "2 message(s) aujourd'hui" in told[0].text()


# --- membership.notify -----------------------------------------------------------------------

@pytest.mark.parametrize("rules", [WITH_CHARTER + '[membership]\nnotify = "each"\n'])
async def test_notify_each_tells_every_moderator_at_once(bot: Driver) -> None:
    asked = await bot.command("inscription", sender="newbie@example.org", name="Nina")
    await bot.reply_to(asked, "oui", sender="newbie@example.org")
    for moderator in (ALICE, CAROL):
        notices = bot.sink.to(moderator)
        assert len(notices) == 1 and "newbie@example.org> a rejoint" in notices[0].text()
    await bot.command("modérer Bob", sender=ALICE)
    assert bot.sink.to(ALICE) != [] and len(bot.sink.to(CAROL)) == 1  # not the one who did it
    assert "décidé par" in bot.sink.to(CAROL)[0].text()
    asked = await bot.command("quitter", sender="newbie@example.org")
    await bot.reply_to(asked, "oui", sender="newbie@example.org")
    assert "a quitté" in bot.sink.to(ALICE)[0].text()
    bot.clock.advance(timedelta(days=1))
    bot.sink.clear()
    await bot.service.drain()
    assert bot.sink.to(ALICE) == []  # no summary: told already


@pytest.mark.parametrize("rules", [WITH_CHARTER + '[membership]\nnotify = "daily"\n'])
async def test_notify_daily_sends_one_summary_at_digest_time(bot: Driver) -> None:
    asked = await bot.command("inscription", sender="newbie@example.org", name="Nina")
    await bot.reply_to(asked, "oui", sender="newbie@example.org")
    assert bot.sink.to(ALICE) == []
    asked = await bot.command("bannir bob@example.net", sender=ALICE)
    await bot.reply_to(asked, "oui", sender=ALICE)
    assert bot.sink.to(CAROL) == []
    bot.sink.clear()
    bot.clock.advance(timedelta(hours=4, minutes=59))  # 17:59 in Paris
    await bot.service.drain()
    assert bot.sink.received == []
    bot.clock.advance(timedelta(minutes=2))
    await bot.service.drain()
    for moderator in (ALICE, CAROL):
        summary = bot.sink.to(moderator)
        assert len(summary) == 1
        text = summary[0].text()
        assert "2 changement(s)" in str(summary[0].message["Subject"])
        assert "newbie@example.org> a rejoint" in text and "Bob <bob@example.net> est exclu" in text
    bot.sink.clear()
    bot.clock.advance(timedelta(days=1))
    await bot.service.drain()
    assert bot.sink.received == []  # nothing new, no summary


@pytest.mark.parametrize("rules", [WITH_CHARTER + '[membership]\nnotify = "never"\n'])
async def test_notify_never_tells_nobody(bot: Driver) -> None:
    asked = await bot.command("inscription", sender="newbie@example.org", name="Nina")
    await bot.reply_to(asked, "oui", sender="newbie@example.org")
    bot.clock.advance(timedelta(days=1))
    bot.sink.clear()
    await bot.service.drain()
    assert bot.sink.to(ALICE) == [] and bot.sink.to(CAROL) == []


# --- explain, the reader, the pure rule, the CLI ---------------------------------------------

def test_explain_reports_the_new_commands(tmp_path: Path, database_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from mailbot.cli import main

    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    message = tmp_path / "cmd.eml"
    message.write_bytes(make_message(
        to="sel-request@example.org", subject="charte",
        body="modérer marie@example.com\nlibérer marie@example.com\nrappel bob@example.net\n"
             "bannir bob@example.net\ndébannir bob@example.net\n", sender=ALICE))
    capsys.readouterr()
    assert main(["explain", "-c", str(config), "--json", str(message)]) == 0
    out = capsys.readouterr().out
    requests = json.loads(out.splitlines()[0])["requests"]
    assert [(r["action"], r.get("who")) for r in requests] == [
        ("charter", None), ("moderate", MARIE), ("unmoderate", MARIE), ("remind", BOB),
        ("ban", BOB), ("unban", BOB)]


@pytest.mark.parametrize(("subject", "body", "action"), [
    ("", "Bonjour, où puis-je trouver la charte ?", "charter"),
    ("", "Pouvez-vous me renvoyer le règlement de la liste svp", "charter"),
    ("", "What are the group rules?", "charter"),
    ("Rules", "", "charter"),
    ("", "moderate Marie Dubois", "moderate"),
    ("", "Rappel Marie", "remind"),
    ("", "Bonjour, pouvez-vous mettre Marie sous modération ? Merci", "moderate"),
    ("", "Please put Marie Dubois on moderation for a while.", "moderate"),
    ("", "On peut lever la modération de Marie, elle s'est excusée.", "unmoderate"),
    ("", "Please lift Marie's moderation", "unmoderate"),
    ("", "Pourriez-vous envoyer un petit rappel de la charte à Marie ?", "remind"),
    ("", "Could you send Marie a friendly reminder of the charter?", "remind"),
])
def test_the_reader_reads_the_new_requests(subject: str, body: str, action: str) -> None:
    from mailbot.reading.requests import Known, Person, Said, read_requests

    known = Known(roster=(Person(MARIE, "Marie Dubois"), Person(BOB, "Bob Martin")))
    found = read_requests(Said(subject, body, sender=ALICE), known)
    assert [r.action for r in found] == [action]
    if action in ("moderate", "unmoderate", "remind"):
        assert found[0].args["who"] == MARIE


@pytest.mark.parametrize(("subject", "body"), [
    ("Rappel réunion jeudi", ""),  # a post's topic, never a moderator's act
    ("Rappel", "N'oubliez pas la réunion de jeudi à 18h, salle des fêtes."),
])
def test_a_post_that_starts_with_rappel_is_just_a_post(subject: str, body: str) -> None:
    from mailbot.reading.requests import Known, Person, Said, read_requests

    known = Known(roster=(Person(MARIE, "Marie Dubois"),))
    found = read_requests(Said(subject, body, role="post", sender=MARIE), known)
    assert [r.action for r in found if r.action == "administrivia"] == []


@pytest.mark.parametrize(("moderated", "posts_today", "limit", "verdict"), [
    (False, 0, 0, "accept"), (True, 0, 0, "hold:moderated"), (False, 5, 0, "accept"),
    (False, 2, 3, "accept"), (False, 3, 3, "hold:flood"), (True, 3, 3, "hold:moderated"),
])
def test_authorize_holds_moderated_members_and_floods(moderated: bool, posts_today: int,
                                                      limit: int, verdict: str) -> None:
    from mailbot.config.rules import Posting
    from mailbot.pipeline.authorize import decide_post

    decided = decide_post(Posting(max_posts_per_day=limit), is_member=True, is_moderator=False,
                          post_count=9, size=10, automatic=False, moderated=moderated,
                          posts_today=posts_today)
    assert (decided.action if decided.action == "accept" else
            f"{decided.action}:{decided.reason}") == verdict
    moderator = decide_post(Posting(max_posts_per_day=limit), is_member=True,
                            is_moderator=True, post_count=9, size=10, automatic=False,
                            moderated=moderated, posts_today=posts_today)
    assert moderator.action == "accept"


async def test_members_list_shows_moderation_reminders_and_bans(
        bot: Driver, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from mailbot.cli import main

    await bot.command("modérer Marie", sender=ALICE)
    await bot.command("rappel Marie", sender=ALICE)
    asked = await bot.command("bannir bob@example.net", sender=ALICE)
    await bot.reply_to(asked, "oui", sender=ALICE)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["-c", str(config.path), "members", "list",
                                          "--list", "sel"])
    out = capsys.readouterr().out
    assert code == 0
    marie = next(line for line in out.splitlines() if line.startswith(MARIE))
    assert "(moderated since 2026-11-23)" in marie
    assert f"(charter reminder 2026-11-23 by {ALICE})" in marie
    assert f"{BOB}\t\tbanned (since 2026-11-23, by {ALICE})" in out


async def test_a_suspension_for_bounces_is_in_the_daily_summary(bot: Driver,
                                                                config: Config) -> None:
    from mailbot.bounces.tracking import suspend

    def suspend_bob(session: Any) -> None:
        ctx = bot.service._context(session)
        member = ctx.stores.members.get("sel", BOB)
        assert member is not None
        suspend(ctx, config.lists[0], member, 5, "bob@example.net: 550 5.1.1 unknown")
    bot.sink.clear()
    await bot.service.db.run(suspend_bob)
    await bot.service.drain()
    assert len(bot.sink.to(ALICE)) == 1  # the suspension's own notice, at once
    bot.sink.clear()
    bot.clock.advance(timedelta(hours=5, minutes=1))  # 18:01 in Paris
    await bot.service.drain()
    summary = bot.sink.to(ALICE)
    assert len(summary) == 1 and "les envois à Bob <bob@example.net> sont suspendus" in \
        summary[0].text()


@pytest.mark.parametrize("rules", ['[posting]\nmax_posts_per_day = 1\n'])
async def test_the_flood_brake_speaks_english(bot: Driver) -> None:
    await speaks_english(bot, BOB)
    await post(bot, BOB, "First", name="Bob")
    assert len(copies(bot)) == 2
    await post(bot, BOB, "Second", name="Bob")
    told = bot.sink.to(BOB)
    assert copies(bot) == [] and len(told) == 1
    assert "you have already sent 1 message(s) today" in told[0].text()
