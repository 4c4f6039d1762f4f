"""The hosted-mailbox reader: IMAP in, the same intake as SMTP.

Each message in the watched folder is stored (and committed) through `accept`, then moved
to the processed folder. A crash between the two only means the message is fetched again
and recognised as already stored (same Message-ID), so nothing is handled twice; two
readers moving the same message is harmless for the same reason. IDLE wakes the reader
within a second when the server offers it; otherwise it polls. imapclient is blocking, so
the conversation runs in a thread of its own.
"""

import asyncio
import contextlib
import imaplib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from email.utils import getaddresses
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailbot.config import Config
from mailbot.config.addresses import Recipient, resolve
from mailbot.reading.authenticity import keep_trusted_results
from mailbot.reading.message import envelope_sender, header, parse

log = logging.getLogger(__name__)

Accept = Callable[[bytes, str, Sequence[tuple[str, Recipient]]], Coroutine[Any, Any, None]]
# Where a hosted mailbox says whom a message was for, most precise first.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
LOGIN_RETRY = 300.0  # seconds: a wrong password is not fixed by hammering the server
LONGEST_BACKOFF = 60.0
IDLE_TICK = 0.5  # seconds per IDLE check: how fast a stop or a hang-up is noticed
NETWORK_ERRORS = (IMAPClientError, imaplib.IMAP4.abort, OSError, socket.timeout)


def recipient_of(raw: bytes, config: Config) -> tuple[str, Recipient] | None:
    """The first list address named in Delivered-To, X-Original-To, To, then Cc."""
    msg = parse(raw)
    for name in RECIPIENT_HEADERS:
        for _, address in getaddresses([header(msg, name)]):
            found = resolve(address, config.lists, config.server.separator)
            if found is not None:
                return address.lower(), found
    return None


class ImapReader:
    def __init__(self, config: Config, accept: Accept) -> None:
        assert config.imap is not None
        self.config, self.imap, self.accept = config, config.imap, accept
        self._skipped: set[int] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Read the mailbox until `stop` is set (reconnecting as long as it takes)."""
        loop, halt = asyncio.get_running_loop(), threading.Event()
        reading = loop.run_in_executor(None, self._run, loop, halt)
        try:
            await stop.wait()
        finally:
            halt.set()
            await reading

    async def read_once(self) -> int:
        """Burst mode: store and move what is in the folder now; return how many."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._read_once, loop)

    def _read_once(self, loop: asyncio.AbstractEventLoop) -> int:
        client = self._connect()
        try:
            return self._store_all(client, loop)
        finally:
            _logout(client)

    def _run(self, loop: asyncio.AbstractEventLoop, halt: threading.Event) -> None:
        """The reading loop (blocking): sessions, with backoff when they fail."""
        backoff = 1.0
        while not halt.is_set():
            try:
                self._session(loop, halt)
                backoff = 1.0
                continue
            except LoginError as exc:
                log.error("IMAP login refused for %s at %s: %s; check [imap] user and "
                          "password (trying again in %d s)", self.imap.user, self.imap.host,
                          exc, LOGIN_RETRY)
                wait = LOGIN_RETRY
            except NETWORK_ERRORS as exc:
                log.warning("IMAP connection to %s lost (%s); again in %.0f s",
                            self.imap.host, exc, backoff)
                wait, backoff = backoff, min(backoff * 2, LONGEST_BACKOFF)
            halt.wait(wait)

    def _session(self, loop: asyncio.AbstractEventLoop, halt: threading.Event) -> None:
        client = self._connect()
        try:
            idle = client.has_capability("IDLE")
            while not halt.is_set():
                self._store_all(client, loop)
                if not _told_of_new_mail(client):
                    self._wait_for_news(client, idle, halt)
        finally:
            _logout(client)

    def _connect(self) -> IMAPClient:
        cfg = self.imap
        context = ssl.create_default_context() if cfg.tls != "none" else None
        client = IMAPClient(cfg.host, port=cfg.port, use_uid=True, ssl=cfg.tls == "tls",
                            ssl_context=context, timeout=30)
        try:
            if cfg.tls == "starttls":
                client.starttls(context)
            client.login(cfg.user, cfg.password)
            if not client.folder_exists(cfg.processed_folder):
                client.create_folder(cfg.processed_folder)
            client.select_folder(cfg.folder)
        except BaseException:
            with contextlib.suppress(*NETWORK_ERRORS):
                client.shutdown()
            raise
        return client

    def _store_all(self, client: IMAPClient, loop: asyncio.AbstractEventLoop) -> int:
        stored = 0
        for uid in client.search(["ALL"]):
            if uid in self._skipped:
                continue
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
            raw = fetched.get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue  # expunged by another reader meanwhile
            found = recipient_of(raw, self.config)
            if found is None:
                log.warning("IMAP message %s names no list address: left in %s", uid,
                            self.imap.folder)
                self._skipped.add(uid)
                continue
            # the mailbox host's MTA is ours here: its topmost verdict alone is kept
            raw = keep_trusted_results(raw, self.config.server.authserv_id, trusted=True)
            sender = envelope_sender(parse(raw))
            future = asyncio.run_coroutine_threadsafe(self.accept(raw, sender, [found]), loop)
            future.result(timeout=120)  # committed before the message leaves the folder
            self._move(client, uid)
            stored += 1
        return stored

    def _move(self, client: IMAPClient, uid: int) -> None:
        target = self.imap.processed_folder
        if client.has_capability("MOVE"):
            client.move([uid], target)
        else:
            client.copy([uid], target)
            client.delete_messages([uid])
            client.expunge()

    def _wait_for_news(self, client: IMAPClient, idle: bool, halt: threading.Event) -> None:
        """IDLE (RFC 2177) until the server says something changed, or poll_interval."""
        if not idle:
            halt.wait(self.imap.poll_interval)
            return
        client.idle()
        try:
            if _already_read(client):
                return
            deadline = time.monotonic() + self.imap.poll_interval
            while not halt.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                if client.idle_check(timeout=IDLE_TICK):
                    return
                # imapclient swallows an EOF and returns nothing: a socket that woke up
                # early with nothing to read was closed by the server.
                if time.monotonic() - started < IDLE_TICK / 2:
                    raise ConnectionError("the IMAP server closed the connection")
        finally:
            client.idle_done()


def _told_of_new_mail(client: IMAPClient) -> bool:
    """Whether the server reported new mail (EXISTS) alongside our last commands.

    A message that arrives while we search is reported with the search's answer, not
    again in the IDLE that follows: without this look it would wait for poll_interval.
    imaplib keeps such untagged answers aside; imapclient has no public way to read them."""
    kept: dict[str, list[bytes]] = client._imap.untagged_responses
    return bool(kept.pop("EXISTS", None))


def _already_read(client: IMAPClient) -> bool:
    """Whether the server's news already sits in imaplib's read buffer.

    A message that lands just before IDLE is reported at once, in the same packet as the
    server's "+ idling" (Dovecot does this): reading that line pulls the news into the
    buffer too, where the poll() of `idle_check` cannot see it, and it would wait there
    for poll_interval. Peek without blocking."""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(client._imap.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):  # nothing there: what TLS says too
        return False
    finally:
        sock.settimeout(timeout)


def _logout(client: IMAPClient) -> None:
    """Log out politely if the connection still works; close the socket in any case."""
    try:
        client.logout()
    except NETWORK_ERRORS:
        with contextlib.suppress(*NETWORK_ERRORS):
            client.shutdown()
