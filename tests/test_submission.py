"""Outbound submission with authentication, as a hosted mailbox's SMTP requires."""

import asyncio
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlalchemy import select

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import Delivery
from tests.helpers import Sink, add_member, make_message, write_config


class AuthSink(Sink):
    """A submission server: AUTH PLAIN/LOGIN required before MAIL."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[str] = []

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login, auth_data.password) == (b"sel@example.org", b"secret")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    async def start(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]


    def _protocol(self) -> SMTP:
        with warnings.catch_warnings():  # AUTH without TLS: fine on loopback in a test
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(self, decode_data=False, auth_required=True, auth_require_tls=False,
                        authenticator=self.authenticate)


@pytest.fixture
async def auth_sink() -> AsyncIterator[AuthSink]:
    server = AuthSink()
    await server.start()
    yield server
    await server.stop()


async def capped_service(tmp_path: Path, database_url: str, port: int, password: str,
                         clock: FakeClock) -> Service:
    path = write_config(tmp_path, database_url, sink_port=port)
    path.write_text(path.read_text().replace(
        "max_connections = 4",
        f'max_connections = 4\nusername = "sel@example.org"\npassword = "{password}"'
    ).replace("timeout = 10", "timeout = 2"))
    service = Service(load_config(path), clock=clock)
    db.upgrade(service.db.engine)
    await service.db.run(add_member, "sel", "bob@example.net", "Bob", clock.now())
    recipient = resolve("sel@example.org", service.config.lists, "-")
    assert recipient is not None
    await service.accept(make_message(sender="bob@example.net"), "bob@example.net",
                         [("sel@example.org", recipient)])
    return service


async def test_submission_authenticates_then_delivers(
        tmp_path: Path, database_url: str, auth_sink: AuthSink, clock: FakeClock) -> None:
    service = await capped_service(tmp_path, database_url, auth_sink.port, "secret", clock)
    try:
        await service.drain()
    finally:
        service.close()
    assert auth_sink.logins == ["sel@example.org"]
    assert [r.rcpt_tos for r in auth_sink.received] == [["bob@example.net"]]


async def test_a_wrong_password_keeps_the_mail_queued(
        tmp_path: Path, database_url: str, auth_sink: AuthSink, clock: FakeClock) -> None:
    service = await capped_service(tmp_path, database_url, auth_sink.port, "wrong", clock)
    try:
        await service.drain()
        rows = await service.db.run(lambda s: s.scalars(select(Delivery)).all())
    finally:
        service.close()
    assert auth_sink.received == []
    # temporary, not a bounce: once the operator fixes the password, it goes out
    assert [r.status for r in rows] == ["queued"]
    assert (rows[0].last_error or "").startswith("smarthost unreachable")
