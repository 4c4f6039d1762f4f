"""Transports that hand deliveries to the outside: an SMTP smarthost, or a Maildir.

The SMTP transport keeps up to `max_connections` connections open and sends many
deliveries over each (bounded concurrency). Connections are kept from one batch to the
next while the sender finds work, and closed (`release`) when it has none. Each result is
handed to `report` the moment the server answers; recording goes on beside the sending,
and a connection waits only once `outbound.record_batch` of its transactions are sent and
not yet recorded. After a crash, at most that many transactions per connection can have
been accepted by the server and not recorded, and be sent again.
aiosmtplib errors are mapped here to temporary (4xx, network) or permanent (5xx) results.
"""

import asyncio
import mailbox
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from mailbot.config import OutboundConfig
from mailbot.outbound import transaction
from mailbot.outbound.batching import build_batches
from mailbot.storage.deliveries import Job, Result

Report = Callable[[list[Result]], Awaitable[None]]

# A connection is not reused past these: some servers (Exim) close after 1,000 messages.
MAX_TRANSACTIONS = 500
MAX_AGE = 60.0  # seconds


class Transport(Protocol):
    async def deliver(self, jobs: Sequence[Job], report: Report) -> None:
        """Attempt every job, handing each transaction's results to `report` as soon as
        they are known. Reports may still be under way when it returns."""
        ...

    async def release(self) -> None:
        """Wait for the reports still under way, and close what was kept open for the next
        batch (the sender found no more work)."""
        ...


def make_transport(cfg: OutboundConfig, hostname: str) -> Transport:
    if cfg.maildir is not None:
        return MaildirTransport(cfg.maildir)
    return SmtpTransport(cfg, hostname)


class MaildirTransport:
    """Writes each delivery as a file in a Maildir (for a first try, or a local pickup)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def deliver(self, jobs: Sequence[Job], report: Report) -> None:
        await report(await asyncio.to_thread(self._write_all, jobs))

    def _write_all(self, jobs: Sequence[Job]) -> list[Result]:
        box = mailbox.Maildir(self.path, create=True)
        results = []
        for job in jobs:
            trace = f"Return-Path: <{job.envelope_from}>\nDelivered-To: {job.rcpt}\n".encode()
            try:
                box.add(trace + job.raw.replace(b"\r\n", b"\n"))
                results.append(Result(job.delivery_id, True))
            except OSError as exc:
                results.append(Result(job.delivery_id, False, error=f"maildir: {exc}"))
        return results

    async def release(self) -> None:
        return None


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    opened: float = field(default_factory=time.monotonic)
    transactions: int = 0
    # its transactions' reports still being recorded, kept with it from batch to batch
    unrecorded: deque[asyncio.Future[None]] = field(default_factory=deque)

    def reusable(self) -> bool:
        return (self.client.is_connected and self.transactions < MAX_TRANSACTIONS
                and time.monotonic() - self.opened < MAX_AGE)


class SmtpTransport:
    def __init__(self, cfg: OutboundConfig, hostname: str) -> None:
        assert cfg.smtp is not None
        self.cfg, self.hostname = cfg, hostname
        self._kept: list[_Connection] = []
        self._left = deque[asyncio.Future[None]]()  # reports of connections closed since

    async def deliver(self, jobs: Sequence[Job], report: Report) -> None:
        pending: asyncio.Queue[list[Job]] = asyncio.Queue()
        batches = build_batches(jobs, self.cfg.batch_recipients)
        for batch in batches:
            pending.put_nowait(batch)
        workers = min(self.cfg.max_connections, len(batches))
        await asyncio.gather(*(self._work(pending, report) for _ in range(workers)))

    async def release(self) -> None:
        """Wait for every report still being recorded, and close the connections."""
        kept, self._kept = self._kept, []
        for unrecorded in [self._left, *(conn.unrecorded for conn in kept)]:
            await _within(unrecorded, 0)
        await asyncio.gather(*(_close(c.client) for c in kept))

    async def _work(self, pending: asyncio.Queue[list[Job]], report: Report) -> None:
        """One connection's loop: take batches until none are left, reconnecting after
        errors; results are recorded beside it. (A protocol loop: longer than most
        functions here.)"""
        conn = self._kept_connection()
        unrecorded = conn.unrecorded if conn else deque[asyncio.Future[None]]()
        try:
            while True:
                await _within(unrecorded, self.cfg.record_batch - 1)
                if pending.empty():
                    break
                batch = pending.get_nowait()
                results = await self._send(conn, batch) if conn else None
                if results is None:  # none yet, worn out, or a kept one the server closed
                    if conn is not None:
                        await _close(conn.client)
                    try:
                        conn = _Connection(await self._connect(), unrecorded=unrecorded)
                    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                        conn = None
                        await report(_unreachable(batch, pending, exc))
                        break
                    results = await self._send(conn, batch, fresh=True)
                    assert results is not None
                unrecorded.append(asyncio.ensure_future(report(results)))
                if not any(r.ok for r in results):  # start afresh after a failure
                    assert conn is not None
                    await _close(conn.client)
                    conn = None
        except asyncio.CancelledError:
            if conn is not None:  # stopping: no polite QUIT to a server that may not answer
                conn.client.close()
                conn = None
            raise
        finally:
            if conn is not None and conn.reusable():  # its reports go on with it
                self._kept.append(conn)
            else:
                if conn is not None:
                    await _close(conn.client)
                if unrecorded:  # closed, or stopping: what is being recorded is let finish
                    await asyncio.wait(list(unrecorded))

    def _kept_connection(self) -> _Connection | None:
        while self._kept:
            conn = self._kept.pop()
            if conn.client.is_connected:
                return conn
            conn.client.close()
            self._left.extend(conn.unrecorded)  # closed by the server while kept
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg, smtp = self.cfg, self.cfg.smtp
        assert smtp is not None
        context = ssl.create_default_context() if cfg.tls != "none" else None
        client = aiosmtplib.SMTP(
            hostname=smtp.host, port=smtp.port, timeout=cfg.timeout,
            local_hostname=self.hostname, use_tls=cfg.tls == "tls",
            start_tls=cfg.tls == "starttls", tls_context=context,
            username=cfg.username, password=cfg.password,
        )
        await client.connect()
        return client

    async def _send(self, conn: _Connection, batch: list[Job], *,
                    fresh: bool = False) -> list[Result] | None:
        """One transaction for the batch; a result per recipient (some may be refused).
        None when a kept connection turns out closed by the server: try a new one."""
        first = batch[0]
        if not fresh and not conn.reusable():
            return None
        conn.transactions += 1
        try:
            refused = await transaction.send(
                conn.client, first.envelope_from, [j.rcpt for j in batch], first.raw)
        except aiosmtplib.SMTPServerDisconnected as exc:
            if not fresh:  # closed while idle, or between transactions
                return None
            return [Result(j.delivery_id, False, error=f"smtp: {exc}") for j in batch]
        except aiosmtplib.SMTPRecipientsRefused as exc:  # every RCPT was refused
            said = {r.recipient: r for r in exc.recipients}
            return [_refused(j, said[j.rcpt].code, said[j.rcpt].message) if j.rcpt in said
                    else Result(j.delivery_id, False, error="refused") for j in batch]
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 and not fresh:  # closing: a kept connection has had its day
                return None
            # at MAIL FROM or DATA: the message itself is refused, not a recipient
            return [_refused(j, exc.code, exc.message, whole=True) for j in batch]
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return [Result(j.delivery_id, False, error=f"smtp: {exc}") for j in batch]
        return [_refused(j, refused[j.rcpt].code, refused[j.rcpt].message)
                if j.rcpt in refused else Result(j.delivery_id, True) for j in batch]


def _refused(job: Job, code: int, message: str, *, whole: bool = False) -> Result:
    """RFC 5321 §4.2.1: 5yz is a permanent refusal, 4yz a temporary one."""
    return Result(job.delivery_id, False, permanent=500 <= code < 600,
                  error=f"{code} {message}"[:500], whole=whole)


def _unreachable(first: list[Job], pending: asyncio.Queue[list[Job]],
                 exc: BaseException) -> list[Result]:
    """The smarthost cannot be reached: every job this worker would take waits for later."""
    error = f"smarthost unreachable: {exc}"[:500]
    batches = [first]
    while not pending.empty():
        batches.append(pending.get_nowait())
    return [Result(j.delivery_id, False, error=error) for batch in batches for j in batch]


async def _within(unrecorded: deque[asyncio.Future[None]], most: int) -> None:
    """Wait until at most `most` of these reports are still being recorded (the oldest
    first: results are written in the order they came)."""
    while unrecorded and unrecorded[0].done():
        unrecorded.popleft().result()
    while len(unrecorded) > most:
        await unrecorded.popleft()


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()
