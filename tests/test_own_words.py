"""Members' own words at the list address (issue #17): what was meant for the robot goes
to the robot, a stance on a proposal named only by its words counts without being
posted, proposals and offers are read without the exact tag."""

from sqlalchemy import select

from mailbot.storage.models import ExchangeItem, InboundMessage, Objection, Proposal
from tests.e2e import Driver
from tests.helpers import make_message
from tests.test_proposals import proposals, propose

LIST_COPIES = "List-Id"


def list_copies(bot: Driver) -> list[str]:
    return [str(r.message["Subject"]) for r in bot.sink.received if r.message[LIST_COPIES]
            and r.message["Auto-Submitted"] is None]


async def test_a_command_sent_to_the_list_goes_to_the_robot_not_to_everyone(
        bot: Driver) -> None:
    assert await bot.send(make_message(subject="solde", body="solde\n")) == 250
    assert list_copies(bot) == []
    [answer] = bot.sink.to("marie@example.com")
    assert "Votre solde : 0 points" in str(answer.message["Subject"])
    assert "arrivé chez le robot, pas chez les membres" in answer.text()
    assert "écrivez à sel-request@example.org" in answer.text()


async def test_an_empty_post_is_answered_privately_not_distributed(bot: Driver) -> None:
    assert await bot.send(make_message(subject="désinscrivez-moi", body="\n")) == 250
    assert list_copies(bot) == []
    [answer] = bot.sink.to("marie@example.com")
    assert str(answer.message["Reply-To"]).startswith("sel-confirm+"), answer.text()


async def test_a_strangers_command_to_the_list_is_held_as_any_post(bot: Driver) -> None:
    raw = make_message(sender="stranger@example.org", subject="unsubscribe", body="\n")
    assert await bot.send(raw, mail_from="stranger@example.org") == 250
    rows = await bot.service.db.run(lambda s: s.scalars(select(InboundMessage)).all())
    assert [r.status for r in rows] == ["held"]


async def test_an_objection_in_reply_to_a_digest_counts_and_is_not_posted(
        bot: Driver) -> None:
    await propose(bot, "[PROPOSITION] Achat d'une tondeuse")
    second = make_message(subject="[PROPOSITION] Repas partagé mensuel", body="Un repas.\n",
                          message_id="<prop-2@example.com>")
    assert await bot.send(second) == 250  # n°2
    bot.sink.clear()
    digest_reply = make_message(sender="bob@example.net",
                                subject="Re: Résumé du jour de SEL de Saint-Martin",
                                body="Je ne suis pas d'accord avec la 2, c'est trop souvent.\n")
    assert await bot.send(digest_reply, mail_from="bob@example.net") == 250
    assert list_copies(bot) == []
    objections = await bot.service.db.run(lambda s: [
        (o.email, o.proposal_id) for o in s.scalars(select(Objection)).all()])
    number_two = next(p for p in await proposals(bot) if p.number == 2)
    assert objections == [("bob@example.net", number_two.id)]
    [receipt] = bot.sink.to("bob@example.net")
    assert "objection est enregistrée" in str(receipt.message["Subject"])


async def test_a_forwarded_and_twice_replied_objection_finds_its_proposal(
        bot: Driver) -> None:
    await propose(bot)
    raw = make_message(sender="bob@example.net",
                       subject="RE: TR: [sel] [PROPOSITION] Achat d'une tondeuse",
                       body="OBJECTION : trop cher.\n",
                       headers={"References": "<other@x.example> <prop-1@example.com>"})
    assert await bot.send(raw, mail_from="bob@example.net") == 250
    assert await bot.service.db.run(lambda s: len(s.scalars(select(Objection)).all())) == 1


async def test_a_proposal_and_an_offer_without_the_exact_tag(bot: Driver) -> None:
    assert await bot.send(make_message(subject="Proposal - monthly repair café",
                                       body="Let us meet once a month to mend things.\n")) == 250
    assert [p.title for p in await proposals(bot)] == ["monthly repair café"]
    assert await bot.send(make_message(subject="Offering: cakes for your parties",
                                       body="I bake cakes, ask me.\n")) == 250
    titles = await bot.service.db.run(lambda s: [
        (i.kind, i.title) for i in s.scalars(select(ExchangeItem)).all()])
    assert titles == [("offer", "cakes for your parties")]
    # both still went to the list
    assert len([s for s in list_copies(bot) if "Proposal" in s or "Offering" in s]) >= 2


async def test_a_plain_post_stays_a_plain_post(bot: Driver) -> None:
    assert await bot.send(make_message(subject="Réunion jeudi",
                                       body="On se retrouve jeudi à 18h ?\n")) == 250
    assert list_copies(bot) == ["[sel] Réunion jeudi"] * 2
    assert await bot.service.db.run(lambda s: s.scalars(select(Proposal)).all()) == []
