"""Offers and requests by email, end to end with a fake clock."""

from datetime import timedelta

from tests.e2e import Driver
from tests.helpers import Received, make_message


def notes(bot: Driver, rcpt: str) -> list[Received]:
    return [r for r in bot.sink.to(rcpt) if not r.message["List-Id"]]


async def post_item(bot: Driver, subject: str, body: str = "Bonjour.\n",
                    sender: str = "marie@example.com") -> None:
    await bot.send(make_message(sender=sender, subject=subject, body=body),
                   mail_from=sender)


async def test_an_offer_is_recorded_numbered_distributed_and_listed(bot: Driver) -> None:
    await post_item(bot, "[OFFRE] Cours de guitare", "Catégorie : Musique\nLe mardi soir.\n")
    assert [r.message["Subject"] for r in bot.sink.to("bob@example.net")] == \
        ["[sel] [OFFRE] Cours de guitare"]
    [ack] = notes(bot, "marie@example.com")
    assert "offre n°1 est enregistrée" in ack.message["Subject"]
    assert "(catégorie : musique)" in ack.text() and "22 janvier 2027" in ack.text()
    listed = await bot.command("offres", sender="bob@example.net")
    assert "n°1  Cours de guitare [musique] — Marie <marie@example.com>" in listed.text()
    assert "Aucune offre en cours dans « jardin »" in \
        (await bot.command("offres jardin", sender="bob@example.net")).text()
    assert "Aucune demande en cours" in \
        (await bot.command("demandes", sender="bob@example.net")).text()


async def test_a_request_meets_the_offers_that_fit_both_ways(bot: Driver) -> None:
    await post_item(bot, "[OFFRE] Aide au jardinage", "Catégorie : jardin\n")
    await post_item(bot, "[OFFRE] Cours de piano")
    bot.sink.clear()
    await post_item(bot, "[DEMANDE] Quelqu'un pour tondre", "Catégorie : jardin\n",
                    sender="bob@example.net")
    to_requester = [r for r in notes(bot, "bob@example.net") if "répond" in
                    r.message["Subject"]]
    assert len(to_requester) == 1  # the garden offer, not the piano one
    assert to_requester[0].message["Reply-To"] == "marie@example.com"
    assert "Aide au jardinage" in to_requester[0].text()
    [to_offerer] = notes(bot, "marie@example.com")
    assert to_offerer.message["Reply-To"] == "bob@example.net"
    assert "Quelqu'un pour tondre" in to_offerer.text()


async def test_renewal_notice_then_reply_renews_and_silence_hides(bot: Driver) -> None:
    await post_item(bot, "[OFFRE] Vélo à prêter")
    await post_item(bot, "[DEMANDE] Perceuse", sender="bob@example.net")
    bot.sink.clear()
    bot.clock.advance(timedelta(days=53, minutes=1))  # 7 days before the end
    await bot.service.drain()
    [ask] = notes(bot, "marie@example.com")
    assert ask.message["Subject"].startswith("renouveler 1 ?")
    assert len(notes(bot, "bob@example.net")) == 1
    # Marie just replies to the notice; Bob does nothing
    bot.sink.clear()
    reply = make_message(to="sel-request@example.org",
                         subject="Re: " + str(ask.message["Subject"]), body="oui merci\n")
    await bot.send(reply, to="sel-request@example.org")
    assert "reste visible jusqu'au" in notes(bot, "marie@example.com")[0].text()

    bot.clock.advance(timedelta(days=8))  # Bob's request is over; Marie's offer renewed
    await bot.service.drain()
    assert "est maintenant cachée" in notes(bot, "bob@example.net")[-1].message["Subject"]
    listed = (await bot.command("demandes", sender="marie@example.com")).text()
    assert "Perceuse" not in listed
    assert "Vélo à prêter" in (await bot.command("offres", sender="bob@example.net")).text()
    # hidden, never deleted: its author brings it back
    back = await bot.command("renouveler 2", sender="bob@example.net")
    assert "reste visible" in back.text()
    assert "Perceuse" in (await bot.command("demandes", sender="marie@example.com")).text()


async def test_only_the_author_or_a_moderator_closes(bot: Driver) -> None:
    await post_item(bot, "[OFFRE] Confitures")
    refused = await bot.command("clore 1", sender="bob@example.net")
    assert "Seuls son auteur" in refused.text()
    done = await bot.command("clore 1")
    assert "est clos" in done.text()
    assert "Aucune offre en cours" in (await bot.command("offres")).text()
    assert "est clos : publiez-en un nouveau" in (await bot.command("renouveler 1")).text()
