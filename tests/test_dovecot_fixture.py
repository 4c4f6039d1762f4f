"""The `dovecot` fixture: a real Dovecot IMAP server on loopback, started and stopped per test."""

import contextlib
import socket
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from tests import dovecot as dovecot_module
from tests.dovecot import Dovecot, DovecotError, dovecot_fixture  # noqa: F401  (registers `dovecot`)


def message(subject: str = "Hello") -> bytes:
    msg = EmailMessage()
    msg["From"] = "marie@example.com"
    msg["To"] = "sel@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.com>"
    msg.set_content("Body text.\n")
    return msg.as_bytes()


def test_login_with_imapclient(dovecot: Dovecot) -> None:
    assert dovecot.host == "127.0.0.1"
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=5)
    try:
        client.login(dovecot.user, dovecot.password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_wrong_password_is_refused(dovecot: Dovecot) -> None:
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=5)
    try:
        with pytest.raises(LoginError):
            client.login(dovecot.user, "wrong")
    finally:
        client.logout()


def test_append_then_uids_and_fetch_all(dovecot: Dovecot) -> None:
    assert dovecot.uids("INBOX") == []
    assert dovecot.fetch_all("INBOX") == []
    dovecot.append(message("one"))
    dovecot.append(message("two"))
    assert dovecot.uids("INBOX") == [1, 2]
    raws = dovecot.fetch_all("INBOX")
    assert len(raws) == 2
    assert b"Subject: one" in raws[0]
    assert b"Subject: two" in raws[1]
    assert raws[0].replace(b"\r\n", b"\n") == message("one").replace(b"\r\n", b"\n")


def test_processed_folder_exists(dovecot: Dovecot) -> None:
    assert {"INBOX", "Processed"} <= set(dovecot.folders())
    assert dovecot.uids("Processed") == []
    dovecot.append(message("done"), folder="Processed")
    assert dovecot.uids("Processed") == [1]
    assert dovecot.uids("INBOX") == []


def test_kick_drops_an_open_connection(dovecot: Dovecot) -> None:
    client = dovecot.connect(timeout=5)
    try:
        client.select_folder("INBOX")
        assert dovecot.connections() >= 1
        dovecot.kick()
        assert dovecot.connections() == 0
        with pytest.raises((IMAPClientError, OSError)):
            client.noop()
    finally:
        with contextlib.suppress(IMAPClientAbortError, OSError):
            client.shutdown()
    # The server is still there for a new connection.
    dovecot.append(message("after kick"))
    assert dovecot.uids("INBOX") == [1]


def test_restart_keeps_port_and_mail(dovecot: Dovecot) -> None:
    dovecot.append(message("before"))
    port = dovecot.port
    dovecot.restart()
    assert dovecot.port == port
    assert dovecot.uids("INBOX") == [1]


def test_idle_sees_a_new_message_quickly(dovecot: Dovecot) -> None:
    idler = dovecot.connect(timeout=5)
    try:
        idler.select_folder("INBOX")
        idler.idle()
        dovecot.append(message("wake up"))
        appended = time.monotonic()
        exists: list[int] = []
        while not exists and time.monotonic() - appended < 2.0:
            for response in idler.idle_check(timeout=0.5):
                if len(response) >= 2 and response[1] == b"EXISTS":
                    exists.append(int(response[0]))
        latency = time.monotonic() - appended
        idler.idle_done()
        assert exists == [1], "no EXISTS within 2 s of the APPEND"
        print(f"EXISTS after {latency:.3f} s")
    finally:
        idler.logout()


def test_stopped_server_leaves_nothing_behind(tmp_path: Path) -> None:
    server = Dovecot(tmp_path / "dovecot")
    with server:
        proc = server.proc
        assert proc is not None
        port = server.port
    assert proc.returncode is not None
    assert not dovecot_module._group_alive(proc.pid)  # nothing left in its process group
    assert not server.run_dir.exists()
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    assert "starting up for imap" in server.log_text()


def test_missing_dovecot_says_how_to_install(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dovecot_module, "_which", lambda name: None)
    with pytest.raises(DovecotError, match="apt-get install dovecot-imapd"):
        Dovecot(tmp_path / "dovecot")


def test_a_taken_port_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy])
        real_free_port = dovecot_module.free_port
        monkeypatch.setattr(dovecot_module, "free_port",
                            lambda: next(ports, None) or real_free_port())
        with Dovecot(tmp_path / "dovecot") as server:
            assert server.port != busy
            assert server.uids() == []
