"""Test parts that are real, not mocks: an SMTP sink on loopback, configs on disk, messages."""

import asyncio
import socket
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        content = body.get_content()
        assert isinstance(content, str)
        return content


@dataclass
class Sink:
    """A real SMTP server that records what it is given; can be told to refuse."""

    received: list[Received] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 try later" or "550 5.1.1 no such user"
    dead: set[str] = field(default_factory=set)  # these recipients are refused for good
    refusals: int = 0
    # the whole message is refused: at MAIL FROM for these senders, at DATA for content
    # containing this text (a relay's policy or spam verdict)
    refuse_senders: dict[str, str] = field(default_factory=dict)
    refuse_content: tuple[bytes, str] | None = None
    connections: int = 0
    transactions: int = 0
    port: int = 0
    server: asyncio.Server | None = None
    # offer RFC 2920 PIPELINING in the EHLO reply, as Postfix and Exim do (aiosmtpd reads
    # pipelined commands in order but does not say so)
    pipelining: bool = True

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: Any) -> str:
        if self.refuse_with:
            self.refusals += 1
            return self.refuse_with
        if address in self.dead:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: Any) -> str:
        for prefix, reply in self.refuse_senders.items():
            if address.startswith(prefix):
                return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if self.refuse_content is not None and self.refuse_content[0] in content:
            return self.refuse_content[1]
        self.transactions += 1
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content))
        return "250 OK queued"

    async def handle_EHLO(self, server: Any, session: Any, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.connections += 1  # one EHLO per connection: counts connection reuse
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def start(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self, decode_data=False, enable_SMTPUTF8=True), "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def to(self, rcpt: str) -> list[Received]:
        return [r for r in self.received if rcpt in r.rcpt_tos]

    def clear(self) -> None:
        self.received.clear()


def write_config(tmp: Path, database_url: str, *, sink_port: int | None = None,
                 maildir: Path | None = None, rules: str = "", listen: str = "127.0.0.1:0",
                 lmtp_listen: str = "", separator: str = "-",
                 moderators: tuple[str, ...] = ("alice@example.org",),
                 extra_list: str = "", dns: str | None = None, server_extra: str = "",
                 outbound_extra: str = "") -> Path:
    """A config and rules folder in `tmp`, pointing at `database_url` and the sink, and at
    a loopback DNS server (by default one with no records: no domain has a DMARC policy)."""
    from tests.dnsserver import default_dns

    dns = dns or default_dns().address
    rules_dir = tmp / "rules"
    rules_dir.mkdir(exist_ok=True)
    (rules_dir / "default.toml").write_bytes((ROOT / "rules" / "default.toml").read_bytes())
    (rules_dir / "sel.toml").write_text(textwrap.dedent(rules))
    outbound = f'smtp = "127.0.0.1:{sink_port}"' if sink_port else f'maildir = "{maildir}"'
    mods = ", ".join(f'"{m}"' for m in moderators)
    path = tmp / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [server]
        listen = "{listen}"
        lmtp_listen = "{lmtp_listen}"
        database_url = "{database_url}"
        timezone = "Europe/Paris"
        language = "fr"
        rules_dir = "rules"
        separator = "{separator}"
        hostname = "lists.example.org"
        {server_extra}

        [dns]
        nameservers = ["{dns}"]
        timeout = 2

        [outbound]
        {outbound}
        max_connections = 4
        timeout = 10
        {outbound_extra}

        [[list]]
        name = "sel"
        domain = "example.org"
        title = "SEL de Saint-Martin"
        moderators = [{mods}]
        rules = "sel"
        """) + textwrap.dedent(extra_list))
    return path


def make_message(*, sender: str = "marie@example.com", to: str = "sel@example.org",
                 subject: str = "Bonjour", body: str = "Un message.\n", name: str = "Marie",
                 message_id: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0100"
    if message_id is not None:
        msg["Message-ID"] = message_id
    else:
        from email.utils import make_msgid
        msg["Message-ID"] = make_msgid(domain="example.com")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)


async def smtp_send(port: int, raw: bytes, *, mail_from: str = "marie@example.com",
                    rcpts: tuple[str, ...] = ("sel@example.org",)) -> tuple[int, str]:
    """Send through our real listener with aiosmtplib; return the final (code, text)."""
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
    await client.connect()
    try:
        _, response = await client.sendmail(mail_from, list(rcpts), raw)
        return 250, response  # aiosmtplib raises on anything but a 250 to DATA
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return exc.recipients[0].code, exc.recipients[0].message
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    finally:
        await client.quit()


# The roster and the ledger as tests reach them: a session first, as `Database.run` and
# `Database.transaction` call them.
def add_member(session: Any, list_name: str, email: str, name: str, now: Any,
               language: str | None = None) -> Any:
    from mailbot.storage.members import Members

    return Members(session).add(list_name, email, name, now, language)


def get_member(session: Any, list_name: str, email: str) -> Any:
    from mailbot.storage.members import Members

    return Members(session).get(list_name, email)


def balance(session: Any, list_name: str, email: str) -> int:
    from mailbot.storage.exchange import Ledger

    return Ledger(session).balance(list_name, email)


def transfer(session: Any, mlist: Any, payer: str, payee: str, amount: int, memo: str,
             now: Any, *, recorded_by: str) -> str | None:
    from mailbot.exchange.payments import transfer as transfer_points
    from mailbot.storage.stores import Stores

    return transfer_points(Stores.of(session), mlist, payer, payee, amount, memo, now,
                           recorded_by=recorded_by)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 50 ms; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def statements_of(session: Any) -> list[str]:
    """The SQL statements `session`'s connection runs from now on, as they run."""
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen
