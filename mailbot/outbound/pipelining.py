"""Commands written as one group and their replies read together (RFC 2920 PIPELINING),
on a connection aiosmtplib opened, greeted and perhaps secured.

aiosmtplib reads one reply per command written: a second reply arriving before the first
is taken is dropped, and replies that came in one packet after the first are left unread.
So for the length of an exchange the connection's transport reads through `Replies`
(asyncio's public `set_protocol`), which keeps every reply in order, then goes back to
aiosmtplib's protocol. A connection lost meanwhile is passed on to it, so that the client
knows it is closed; one that said 421 (closing) is closed, as aiosmtplib does.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

import aiosmtplib
from aiosmtplib import SMTPResponse

_MOST = 1 << 20  # bytes of replies kept unread: a server talking nonsense is cut off


class Replies(asyncio.Protocol):
    def __init__(self, theirs: asyncio.BaseProtocol, transport: asyncio.WriteTransport,
                 timeout: float | None) -> None:
        self.theirs, self.transport, self.timeout = theirs, transport, timeout
        self.buffer = bytearray()
        self.lines: list[bytes] = []  # the lines of a reply not yet complete
        self.replies: deque[SMTPResponse] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.lost: aiosmtplib.SMTPException | None = None
        self.closing = False  # the server said 421: it closes the connection

    async def send(self, data: bytes, replies: int) -> list[SMTPResponse]:
        """Write `data` and return the next `replies` replies, in order."""
        if self.lost is not None:
            raise self.lost
        self.transport.write(data)
        said: list[SMTPResponse] = []
        while len(said) < replies:
            said.append(await self._next())
        return said

    async def _next(self) -> SMTPResponse:
        while not self.replies:
            if self.lost is not None:
                raise self.lost
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(self.timeout):
                    await self.waiter
            except TimeoutError as exc:
                raise aiosmtplib.SMTPReadTimeoutError(
                    "Timed out waiting for server response") from exc
        return self.replies.popleft()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        start = 0
        while (end := self.buffer.find(b"\n", start)) != -1:
            self._line(bytes(self.buffer[start:end + 1]))
            start = end + 1
        del self.buffer[:start]
        if len(self.buffer) > _MOST:
            self._lose(aiosmtplib.SMTPResponseException(-1, "Response too long"))
            self.transport.close()
        self._wake()

    def _line(self, line: bytes) -> None:
        self.lines.append(line)
        if line[3:4] == b"-":
            return
        lines, self.lines = self.lines, []
        try:
            code = int(lines[-1][:3])
        except ValueError:
            code = -1  # aiosmtplib's code for a malformed reply
        text = b"\n".join(x[4:].strip(b" \t\r\n") for x in lines)
        self.closing = self.closing or code == 421
        self.replies.append(SMTPResponse(code, text.decode("utf-8", "surrogateescape")))

    def eof_received(self) -> bool:
        self._lose(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(aiosmtplib.SMTPServerDisconnected(f"Connection lost: {exc}"))
        self.theirs.connection_lost(exc)

    def _lose(self, exc: aiosmtplib.SMTPException) -> None:
        self.lost = self.lost or exc
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


@contextlib.asynccontextmanager
async def exchange(client: aiosmtplib.SMTP) -> AsyncIterator[Replies]:
    """The connection's replies read by `Replies` while the block runs."""
    transport = client.transport
    if not client.is_connected or not isinstance(transport, asyncio.WriteTransport):
        raise aiosmtplib.SMTPServerDisconnected("Server not connected")
    theirs = transport.get_protocol()
    replies = Replies(theirs, transport, client.timeout)
    transport.set_protocol(replies)
    try:
        yield replies
    finally:
        transport.set_protocol(theirs)
        if replies.closing:
            client.close()
