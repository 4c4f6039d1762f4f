"""The SMTP and LMTP listeners (aiosmtpd), hooks named after the SMTP verbs.

RCPT: an address that is not one of our lists' gets 550 at once (no relay, no backscatter);
past `server.max_recipients` in one transaction, 452 (the client sends the rest later).
DATA: too large → 552 with the list's limit; otherwise the raw bytes are committed to the
database and only then 250 is said. No policy runs in the SMTP session.
"""

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope

from mailbot.config import Config
from mailbot.config.addresses import Recipient, resolve
from mailbot.reading.authenticity import keep_trusted_results

log = logging.getLogger(__name__)

Accept = Callable[[bytes, str, Sequence[tuple[str, Recipient]]], Awaitable[None]]


class Handler:
    def __init__(self, config: Config, accept: Accept, *, lmtp: bool = False) -> None:
        self.config, self.accept, self.lmtp = config, accept, lmtp

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.config.server.max_recipients:
            # RFC 5321 §4.5.3.1.10: a temporary refusal; the client sends the rest in
            # another transaction (what was accepted so far still goes through)
            return "452 4.5.3 Too many recipients"
        recipient = resolve(address, self.config.lists, self.config.server.separator)
        if recipient is None:
            return reply("550", "5.1.1", {
                "fr": f"<{address}> : cette adresse n'existe pas ici, vérifiez-la",
                "en": f"<{address}>: no such list address here"},
                self.config.server.language)
        refusal = self._size_refusal(_announced_size(envelope), [(address, recipient)])
        if refusal is not None:  # RFC 1870 §6.2: the SIZE given at MAIL is over this list's
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:
        raw = keep_trusted_results(envelope.original_content or b"",
                                   self.config.server.authserv_id,
                                   trusted=self._from_our_mta(session))
        found = [(a, resolve(a, self.config.lists, self.config.server.separator))
                 for a in envelope.rcpt_tos]
        recipients = [(a, r) for a, r in found if r is not None]
        status = self._size_refusal(len(raw), recipients)
        if status is None:
            try:
                await self.accept(raw, envelope.mail_from or "", recipients)
                status = "250 2.0.0 Message accepted"
            except Exception as exc:  # the sender keeps it and tries again: nothing is lost
                cause = _first_cause(exc)
                log.error("could not store a message from %s, answered 451: %s",
                          envelope.mail_from, cause)
                log.debug("storing failed", exc_info=True)
                status = reply("451", "4.3.0", {
                    "fr": "impossible de l'enregistrer pour l'instant, il sera renvoyé "
                          "tout seul plus tard",
                    "en": "Could not store the message now, please try again later"},
                    self.config.server.language)
        # RFC 2033 §4.2: after DATA, LMTP answers once per accepted recipient.
        return "\r\n".join([status] * len(envelope.rcpt_tos)) if self.lmtp else status

    def _from_our_mta(self, session: Any) -> bool:
        """LMTP is spoken only by our own MTA; SMTP peers are trusted when listed in
        `server.trusted_relays`."""
        if self.lmtp:
            return True
        peer = session.peer
        host = peer[0] if isinstance(peer, tuple) and peer else ""
        return self.config.server.is_trusted_relay(str(host))

    def _size_refusal(self, size: int, recipients: Sequence[tuple[str, Recipient]]) -> str | None:
        for address, recipient in recipients:
            limit = recipient.mlist.rules.posting.max_kb
            if size > limit * 1024:
                kb = size // 1024
                return reply("552", "5.3.4", {
                    "fr": f"message trop gros pour {address} : {kb} Ko, la liste accepte "
                          f"au plus {limit} Ko ; retirez ou réduisez les pièces jointes",
                    "en": f"Message too large for {address}: {kb} KB, the list accepts "
                          f"at most {limit} KB"}, recipient.mlist.language)
        return None


def reply(code: str, status: str, texts: dict[str, str], language: str) -> str:
    """An SMTP reply in the list's language first, then English (RFC 5321 §4.2.1: a
    multi-line reply repeats its code, "-" on every line but the last; RFC 3463 status on
    each). The sending server quotes it whole in the bounce its user receives."""
    first = texts.get(language, texts["en"])
    lines = [first] + ([texts["en"]] if first != texts["en"] else [])
    return "\r\n".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{status} {text}"
                        for i, text in enumerate(lines))


def _first_cause(exc: BaseException) -> str:
    """The error that started it all, on one line ("database or disk is full" rather than
    the failed rollback it led to)."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _announced_size(envelope: Envelope) -> int:
    for option in envelope.mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return 0


class _ClearSizeRefusal:
    """aiosmtpd refuses past its own hard cap with a bare "552 Error"; say it clearly."""

    data_size_limit: int

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            status = (f"552 5.3.4 Message too large: at most {self.data_size_limit // 1024} KB"
                      " are accepted here")
        await super().push(status)  # type: ignore[misc]


# `<local@domain>` as nearly every client writes it, then the parameters: local part and
# domain dot-atoms of ASCII letters, digits and the usual signs, nothing to unquote or
# decode. What aiosmtpd's parser (RFC 5322's full grammar) would make of it is the same.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ANGLE = re.compile(
    rf"[ \t]*<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*([^()]*)\Z")


class _PlainAddresses:
    """aiosmtpd reads each MAIL FROM and RCPT TO with the email package's header parser
    (and makes a class on every call): a third of the listener's time under load. An
    address in its plain form is read here; any other goes to aiosmtpd as before."""

    local_part_limit: int

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        found = _PLAIN_ANGLE.match(arg)
        if found is None:
            return super()._getaddr(arg)  # type: ignore[misc,no-any-return]
        address = found[1]
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, found[2]


class MailbotSMTP(_PlainAddresses, _ClearSizeRefusal, SMTP):  # type: ignore[misc]
    pass


class MailbotLMTP(_PlainAddresses, _ClearSizeRefusal, LMTP):  # type: ignore[misc]
    pass


def hard_size_limit(config: Config) -> int:
    """aiosmtpd's own cap, a guard for memory: the lists' own limits speak first."""
    return max(2 * 1024 * max(m.rules.posting.max_kb for m in config.lists), 32 * 1024 * 1024)


def protocol_factory(config: Config, accept: Accept, *, lmtp: bool) -> Callable[[], SMTP]:
    handler = Handler(config, accept, lmtp=lmtp)
    kind = MailbotLMTP if lmtp else MailbotSMTP

    def make() -> SMTP:
        return kind(handler, data_size_limit=hard_size_limit(config), enable_SMTPUTF8=True,
                    decode_data=False, hostname=config.server.hostname, ident="mailbot")

    return make
