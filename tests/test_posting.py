"""Posts over real SMTP: fan-out with the list headers, holds, unknown addresses."""

from sqlalchemy import text

from mailbot.core.clock import FakeClock
from mailbot.service import Service
from tests.helpers import Sink, add_member, make_message, smtp_send

MEMBERS = [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
           ("chloe@example.fr", "Chloé")]


async def add_members(service: Service, clock: FakeClock) -> None:
    for email, name in MEMBERS:
        await service.db.run(add_member, "sel", email, name, clock.now())


async def test_member_post_reaches_every_member_with_list_headers(
        service: Service, sink: Sink, clock: FakeClock) -> None:
    await add_members(service, clock)
    raw = make_message(subject="Re: [sel] Re: [sel] Réunion de jeudi",
                       body="On se retrouve à 18h, salle des fêtes.\n",
                       message_id="<thread-2@example.com>",
                       headers={"In-Reply-To": "<thread-1@example.com>",
                                "References": "<thread-1@example.com>"})
    async with service.listening() as ports:
        code, _ = await smtp_send(ports["smtp"], raw)
    assert code == 250
    await service.drain()

    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(m for m, _ in MEMBERS)
    for copy in sink.received:
        msg = copy.message
        assert msg["Subject"] == "[sel] Re: Réunion de jeudi"
        assert msg["List-Id"] == "SEL de Saint-Martin <sel.example.org>"
        assert msg["List-Post"] == "<mailto:sel@example.org>"
        assert msg["List-Help"] == "<mailto:sel-request@example.org?subject=help>"
        assert msg["List-Subscribe"] == "<mailto:sel-request@example.org?subject=subscribe>"
        assert msg["List-Unsubscribe"] == "<mailto:sel-request@example.org?subject=unsubscribe>"
        assert msg["List-Unsubscribe-Post"] is None
        assert msg["Precedence"] == "list"
        assert msg["Reply-To"] == "SEL de Saint-Martin <sel@example.org>"
        assert msg["From"] == "Marie <marie@example.com>"
        assert msg["Message-ID"] == "<thread-2@example.com>"
        assert msg["In-Reply-To"] == "<thread-1@example.com>"
        assert msg["References"] == "<thread-1@example.com>"
        assert "salle des fêtes" in copy.text()
        # VERP: each member has an envelope sender of their own on the bounces address
        assert copy.mail_from.startswith("sel-bounces+")
        assert copy.mail_from.endswith("@example.org")
    assert len({r.mail_from for r in sink.received}) == len(MEMBERS)


async def test_a_members_bulk_mail_is_held_not_sent(
        service: Service, sink: Sink, clock: FakeClock) -> None:
    """Mail a program sent from a member's address (another list's copy, a newsletter)
    is held for the moderators ("automatic"); the member's own post beside it goes out."""
    await add_members(service, clock)
    bulk = make_message(subject="Lettre d'information", message_id="<bulk-1@example.com>",
                        headers={"Precedence": "bulk"})
    own = make_message(subject="Réunion", message_id="<own-1@example.com>")
    async with service.listening() as ports:
        for raw in (bulk, own):
            assert (await smtp_send(ports["smtp"], raw))[0] == 250
    await service.drain()

    with service.db.engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT message_key, outcome FROM inbound_message WHERE role = 'post'")).all())
    assert rows["<bulk-1@example.com>"] == "held: automatic"
    assert rows["<own-1@example.com>"].startswith("distributed to 3 members")
    members = sorted(m for m, _ in MEMBERS)
    assert sorted(r.rcpt_tos[0] for r in sink.received if "Réunion" in r.message["Subject"]
                  ) == members
    assert not any("information" in (r.message["Subject"] or "") for r in sink.received
                   if r.rcpt_tos[0] in members)
