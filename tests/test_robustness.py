"""Bad and odd input over real SMTP/LMTP: never a crash, never silence, never lost."""

import asyncio

import aiosmtplib
import pytest
from sqlalchemy import select

from mailbot.service import Service
from mailbot.storage.models import InboundMessage
from tests.e2e import Driver
from tests.helpers import make_message, smtp_send


async def stored(service: Service) -> list[InboundMessage]:
    return list(await service.db.run(
        lambda s: s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()))


MALFORMED = (
    b"From: Marie <marie@example.com>\r\nTo: sel@example.org\r\nSubject: broken\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
    b"--XYZ\r\nContent-Type: text/plain; charset=\"no-such-charset\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    b"--XYZ\r\nContent-Type: text/html\r\n\r\n<p>unterminated <b>html\r\n"  # no closing boundary
)


async def test_malformed_mime_is_distributed_byte_for_byte(bot: Driver) -> None:
    assert await bot.send(MALFORMED) == 250
    copies = bot.sink.to("bob@example.net")
    assert len(copies) == 1
    body = MALFORMED.split(b"\r\n\r\n", 1)[1]
    assert copies[0].raw.endswith(body)
    assert copies[0].message["Subject"] == "[sel] broken"


async def test_windows_1252_command_is_understood(bot: Driver) -> None:
    raw = (b"From: Jean <jean@example.net>\r\nTo: sel-request@example.org\r\nSubject: \r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1252\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nInscription \x96 merci \x80\r\n")
    await bot.send(raw, mail_from="jean@example.net", to="sel-request@example.org")
    reply = bot.sink.to("jean@example.net")
    assert len(reply) == 1 and str(reply[0].message["Reply-To"]).startswith("sel-confirm+")


async def test_html_only_command_is_understood(bot: Driver) -> None:
    raw = (b"From: jean@example.net\r\nTo: sel-request@example.org\r\nSubject: \r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><body><div>D&eacute;sinscription</div><div><br></div>"
           b"<div class=\"gmail_quote\">join</div></body></html>\r\n")
    await bot.send(raw, mail_from="jean@example.net", to="sel-request@example.org")
    reply = bot.sink.to("jean@example.net")
    assert len(reply) == 1
    assert "n'est pas inscrite" in reply[0].text()  # understood "désinscription", not "join"


async def test_html_only_post_and_accented_headers_pass_through(bot: Driver) -> None:
    raw = ("From: =?utf-8?q?Chlo=C3=A9?= <marie@example.com>\r\nTo: sel@example.org\r\n"
           "Subject: =?iso-8859-1?q?F=EAte_de_l'=E9t=E9?=\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Venez à la fête !</p>\r\n"
           ).encode()
    await bot.send(raw)
    copy = bot.sink.to("bob@example.net")[0]
    assert copy.message["Subject"] == "[sel] Fête de l'été"
    assert copy.message["From"] == "Chloé <marie@example.com>"
    assert "Venez à la fête".encode() in copy.raw


async def test_raw_utf8_headers_over_smtputf8(bot: Driver) -> None:
    raw = ("From: Zoé <marie@example.com>\r\nTo: sel@example.org\r\nSubject: Réunion à 18h\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nCorps accentué é\r\n").encode()
    await bot.send(raw)
    assert bot.sink.to("bob@example.net")[0].message["Subject"] == "[sel] Réunion à 18h"


@pytest.mark.parametrize("junk", [b"", b"\x00\xff\xfe garbage \x80\r\n\r\n\xff",
                                  b"no headers at all, just text\r\n", b":\r\n:\r\n\r\n"])
async def test_garbage_is_stored_and_nothing_crashes(bot: Driver, junk: bytes) -> None:
    assert await bot.send(junk) == 250
    rows = await stored(bot.service)
    assert len(rows) == 1 and rows[0].raw.rstrip(b"\r\n") == junk.rstrip(b"\r\n")
    assert rows[0].status in ("done", "held", "quarantined")


async def test_auto_replies_and_loops_never_reach_the_list(bot: Driver) -> None:
    cases = [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"},
             {"List-Id": "SEL de Saint-Martin <sel.example.org>"},
             {"Precedence": "auto_reply"}]
    for headers in cases:
        assert await bot.send(make_message(subject="Absent", headers=headers)) == 250
    assert await bot.send(make_message(body="bounce?"), mail_from="") == 250
    assert bot.sink.received == []
    kinds = [r.kind for r in await stored(bot.service)]
    assert kinds == ["auto-reply", "auto-reply", "loop", "auto-reply", "bounce"]


async def test_the_same_message_id_is_handled_once(bot: Driver) -> None:
    raw = make_message(message_id="<once@example.com>")
    assert await bot.send(raw) == 250
    assert await bot.send(raw) == 250  # an SMTP retry after a lost 250
    assert len(bot.sink.to("bob@example.net")) == 1
    assert len(await stored(bot.service)) == 1


async def test_copies_arriving_together_are_stored_once_each(bot: Driver) -> None:
    """Retries that reach us at the same moment share one group commit: each message is
    stored once per recipient. Without a Message-ID the bytes say which are the same."""
    with_id = make_message(message_id="<together@example.com>")
    no_id = make_message(subject="Sans identifiant").replace(b"Message-ID:", b"X-Old-ID:")
    other = make_message(subject="Un autre").replace(b"Message-ID:", b"X-Old-ID:")
    assert b"Message-ID:" not in no_id + other and no_id != other
    sends = [smtp_send(bot.port, raw) for raw in (with_id, no_id, other) for _ in range(4)]
    sends.append(smtp_send(bot.port, with_id, rcpts=("sel@example.org",
                                                     "sel-request@example.org")))
    assert [code for code, _ in await asyncio.gather(*sends)] == [250] * 13
    rows = [(m.rcpt, m.message_key) for m in await stored(bot.service)]
    assert sorted(rows) == sorted(set(rows)) and len(rows) == 4
    assert ("sel-request@example.org", "<together@example.com>") in rows
    assert sum(key.startswith("sha256:") for _, key in rows) == 2


@pytest.mark.parametrize("rules", ["[posting]\nmax_kb = 10\n"])
async def test_too_large_is_refused_at_data_with_the_limit(bot: Driver) -> None:
    raw = make_message(body="x" * 20_000)
    code, text = await smtp_send(bot.port, raw)  # announces SIZE=: refused at RCPT
    assert code == 552 and "at most 10 KB" in text
    # a client that announces no size is refused at the end of DATA, with the same reason
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=bot.port, start_tls=False)
    await client.connect()
    await client.ehlo()
    await client.mail("marie@example.com")
    await client.rcpt("sel@example.org")
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await client.data(raw)
    assert refused.value.code == 552 and "at most 10 KB" in refused.value.message
    await client.quit()
    assert await stored(bot.service) == []


@pytest.mark.parametrize("rules", ["[posting]\nmax_kb = 10\n"])
async def test_refusals_speak_the_list_language_first_then_english(bot: Driver) -> None:
    """The sending server quotes our answer in the bounce its user gets: an elder reads it."""
    code, text = await smtp_send(bot.port, make_message(body="x" * 20_000))
    assert code == 552 and text.splitlines() == [
        "5.3.4 message trop gros pour sel@example.org : 20 Ko, la liste accepte au plus "
        "10 Ko ; retirez ou réduisez les pièces jointes",
        "5.3.4 Message too large for sel@example.org: 20 KB, the list accepts at most 10 KB"]
    code, text = await smtp_send(bot.port, make_message(), rcpts=("selle@example.org",))
    assert code == 550 and "cette adresse n'existe pas ici" in text.splitlines()[0]
    assert "no such list address here" in text.splitlines()[1]


async def test_unknown_recipient_is_refused_at_rcpt(bot: Driver) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=bot.port, start_tls=False)
    await client.connect()
    await client.ehlo()
    await client.mail("x@example.net")
    for address in ("nobody@example.org", "sel-unknown@example.org", "sel@other.example",
                    "sel-confirm@example.org"):
        code, _ = await _rcpt(client, address)
        assert code == 550, address
    await client.quit()
    assert await stored(bot.service) == []


async def _rcpt(client: aiosmtplib.SMTP, address: str) -> tuple[int, str]:
    try:
        response = await client.rcpt(address)
        return response.code, response.message
    except aiosmtplib.SMTPRecipientRefused as exc:
        return exc.code, exc.message


async def test_a_failing_message_is_quarantined_told_and_replayable(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    import mailbot.handling.dispatch

    def broken(*args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setitem(mailbot.handling.dispatch.HANDLERS, "post", broken)
    assert await bot.send(make_message(subject="Important")) == 250
    rows = await stored(bot.service)
    assert rows[0].status == "quarantined" and "simulated bug" in (rows[0].error or "")
    told = bot.sink.to("marie@example.com")
    assert len(told) == 1 and "n'a pas pu être traité" in told[0].message["Subject"]

    monkeypatch.undo()
    from mailbot.handling.dispatch import replay
    from mailbot.outbound.context import Context

    await bot.service.db.run(lambda s: replay(
        Context.open(s, bot.service.config, bot.service.composer, bot.clock.now()), rows[0].id))
    bot.sink.clear()
    await bot.service.drain()
    assert len(bot.sink.to("bob@example.net")) == 1
