"""A small driver for end-to-end tests: send through the real listener, drain, read the sink."""

from dataclasses import dataclass

from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage.models import Member
from tests.helpers import Received, Sink, add_member, get_member, make_message, smtp_send


@dataclass
class Driver:
    service: Service
    sink: Sink
    clock: FakeClock
    port: int

    async def send(self, raw: bytes, *, mail_from: str = "marie@example.com",
                   to: str = "sel@example.org") -> int:
        code, _ = await smtp_send(self.port, raw, mail_from=mail_from, rcpts=(to,))
        await self.service.drain()
        return code

    async def command(self, text: str, *, sender: str = "marie@example.com",
                      subject: str = "", name: str = "Marie") -> Received:
        """Mail `text` to sel-request@ and return the one reply the sender gets."""
        self.sink.clear()
        raw = make_message(sender=sender, to="sel-request@example.org", subject=subject,
                           body=text, name=name)
        assert await self.send(raw, mail_from=sender, to="sel-request@example.org") == 250
        replies = [r for r in self.sink.to(sender) if not r.message["List-Id"]]
        assert len(replies) == 1, [r.message["Subject"] for r in self.sink.received]
        return replies[0]

    async def reply_to(self, received: Received, text: str, *, sender: str,
                       mail_from: str | None = None) -> None:
        """Reply to a bot message the way a mail client does: to its Reply-To, else its
        From."""
        from email.utils import parseaddr

        target = str(received.message["Reply-To"] or parseaddr(str(received.message["From"]))[1])
        self.sink.clear()
        raw = make_message(sender=sender, to=target, subject="Re: " + received.message["Subject"],
                           body=text + "\n\n> quoted text of the bot\n",
                           headers={"In-Reply-To": received.message["Message-ID"]})
        assert await self.send(raw, mail_from=mail_from or sender, to=target) == 250

    async def member(self, email: str) -> Member | None:
        return await self.service.db.run(get_member, "sel", email)

    async def add(self, email: str, name: str = "") -> None:
        await self.service.db.run(add_member, "sel", email, name, self.clock.now())
