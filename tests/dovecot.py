"""A real, throwaway Dovecot IMAP server on loopback, for tests.

Use it from a test module with::

    from tests.dovecot import Dovecot, dovecot_fixture  # noqa: F401  (registers `dovecot`)

    def test_something(dovecot: Dovecot) -> None:
        dovecot.append(raw)
        assert dovecot.uids("INBOX") == [1]

Each test gets its own server, listening on a free port of 127.0.0.1 and stopped when the
test ends. Its config, users file and log are under the test's ``tmp_path`` (kept by pytest
for a look after a failure). Its runtime directory (``base_dir``: unix sockets, pid file) and
maildirs are in a short ``/tmp/dovecot-*`` directory instead, removed on teardown: unix socket
paths are limited to 107 bytes, and the unprivileged mail user (``nobody`` when running as
root: Dovecot refuses mail access as root) cannot traverse pytest's 0700 directories.

The fixture is synchronous and its helpers block (imapclient); from an async test they are
quick enough to call directly, or wrap them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.helpers import free_port

INSTALL_HINT = (
    "Dovecot is required by the IMAP tests but `dovecot` was not found on PATH. "
    "Install it with: apt-get install dovecot-imapd  (.ci/run does this)."
)

START_TIMEOUT = 10.0  # seconds to wait for the server to accept a LOGIN
STOP_TIMEOUT = 5.0  # seconds to wait after SIGTERM before SIGKILL
COMMAND_TIMEOUT = 10.0  # socket timeout for the helper connections and doveadm


def _which(name: str) -> str | None:
    # /usr/sbin is not always on PATH for non-login shells.
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/usr/bin"
    return shutil.which(name, path=path)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        # After "pid (comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of the group is left running."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


class DovecotError(RuntimeError):
    pass


class Dovecot:
    """One Dovecot instance; `start()` / `stop()`, or use the `dovecot` fixture."""

    user = "sel@example.org"
    password = "secret"
    host = "127.0.0.1"

    def __init__(self, root: Path, port: int | None = None, *, tls: bool = False) -> None:
        binary = _which("dovecot")
        doveadm = _which("doveadm")
        if binary is None or doveadm is None:
            raise DovecotError(INSTALL_HINT)
        self.binary = binary
        self.doveadm = doveadm
        self.root = root
        self._auto_port = port is None
        self._started = False  # once up, restarts must keep the port
        self.port = port or free_port()
        self.conf = root / "dovecot.conf"
        self.users_file = root / "users"
        self.log_file = root / "dovecot.log"
        self.stderr_file = root / "dovecot.stderr"
        self.state_dir = root / "state"
        # The runtime directory is short (unix socket paths are at most 107 bytes) and outside
        # tmp_path, whose 0700 parents the unprivileged mail user could not traverse.
        self.run_dir = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.run_dir.chmod(0o755)
        self.base_dir = self.run_dir / "run"
        self.mail_dir = self.run_dir / "mail"
        self.proc: subprocess.Popen[bytes] | None = None
        # With `tls`, the listener speaks implicit TLS (as port 993 does), with a
        # self-signed certificate for 127.0.0.1: clients trust `cert_file`.
        self.tls = tls
        self.cert_file = self.run_dir / "cert.pem"
        self.key_file = self.run_dir / "key.pem"
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.mail_dir.mkdir()
            self._setup_users()
            if tls:
                self._make_certificate()
            self._write_conf()
        except BaseException:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            raise

    def _setup_users(self) -> None:
        if os.geteuid() == 0:
            # Dovecot refuses mail access as root ("Mail access not allowed for root"), so
            # mail processes run as nobody; the service users are Debian's dovecot/dovenull.
            self.mail_user, self.mail_group = "nobody", grp.getgrgid(
                pwd.getpwnam("nobody").pw_gid).gr_name
            self.internal_user, self.login_user = "dovecot", "dovenull"
            for name in (self.mail_user, self.internal_user, self.login_user):
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    raise DovecotError(f"system user {name!r} is missing; {INSTALL_HINT}") from None
            os.chown(self.mail_dir, pwd.getpwnam(self.mail_user).pw_uid,
                     grp.getgrnam(self.mail_group).gr_gid)
        else:
            # Rootless: every process runs as the current user.
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.mail_user = self.internal_user = self.login_user = me
            self.mail_group = grp.getgrgid(os.getegid()).gr_name
        self.users_file.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")

    # -- configuration ---------------------------------------------------------------------

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", f"/CN={self.host}", "-addext", f"subjectAltName=IP:{self.host}",
             "-keyout", str(self.key_file), "-out", str(self.cert_file)],
            check=True, capture_output=True, timeout=COMMAND_TIMEOUT)

    def _ssl_settings(self) -> str:
        if not self.tls:
            return "ssl = no\n"
        return f"ssl = required\nssl_cert = <{self.cert_file}\nssl_key = <{self.key_file}\n"

    def _write_conf(self) -> None:
        rootless = os.geteuid() != 0
        self.conf.write_text(textwrap.dedent(f"""\
            # Self-contained test config: no includes, nothing outside the test's directories.
            instance_name = mailbot-test-{self.port}
            base_dir = {self.base_dir}
            state_dir = {self.state_dir}
            log_path = {self.log_file}
            info_log_path = {self.log_file}
            debug_log_path = {self.log_file}

            protocols = imap
            listen = 127.0.0.1
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            auth_failure_delay = 0 secs

            default_internal_user = {self.internal_user}
            default_login_user = {self.login_user}
            mail_uid = {self.mail_user}
            mail_gid = {self.mail_group}
            first_valid_uid = 1
            mail_location = maildir:{self.mail_dir}/%u

            # New mail is seen through inotify at once; this is the fallback poll.
            mailbox_idle_check_interval = 1 secs
            mail_max_userip_connections = 100
            shutdown_clients = yes

            passdb {{
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {self.users_file}
            }}
            userdb {{
              driver = static
              args = home={self.mail_dir}/%u
            }}

            namespace inbox {{
              inbox = yes
              mailbox Processed {{
                auto = subscribe
              }}
            }}

            service imap-login {{
              inet_listener imap {{
                address = 127.0.0.1
                port = {self.port}
                ssl = {"yes" if self.tls else "no"}
              }}
              inet_listener imaps {{
                port = 0
              }}
            }}
            # The users file is under the test's 0700 tmp_path, which the default auth
            # user (dovecot) cannot read.
            service auth {{
              user = {"$default_internal_user" if rootless else "root"}
            }}
            """))
        with self.conf.open("a") as f:
            f.write(self._ssl_settings())
        if rootless:
            with self.conf.open("a") as f:
                f.write(f"default_internal_group = {self.mail_group}\n"
                        "service imap-login {\n  chroot =\n}\n"
                        "service anvil {\n  chroot =\n}\n"
                        "service ipc {\n  chroot =\n}\n")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        for attempt in range(3):
            try:
                self._start()
                self._started = True
                return
            except DovecotError as e:
                # The free port was taken between picking it and Dovecot binding it: pick again.
                if (self._started or not self._auto_port or attempt == 2
                        or "Address already in use" not in str(e)):
                    raise
                self.port = free_port()
                self._write_conf()

    def _start(self) -> None:
        if self.proc is not None:
            raise DovecotError("already started")
        with open(self.stderr_file, "ab") as err:
            self.proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True,  # own process group: teardown can kill all of it
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        last: BaseException | None = None
        imap_failures = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with status {self.proc.returncode} while starting:\n"
                    + self.log_tail())
            try:
                with self.client(timeout=1.0) as c:
                    c.select_folder("INBOX", readonly=True)  # the mail process works too
                    return
            except OSError as e:  # not listening yet (imapclient's errors are not OSErrors)
                last = e
            except Exception as e:  # the server answered but something is wrong: log it
                last = e
                imap_failures += 1
                if imap_failures >= 3:
                    break
            time.sleep(0.05)
        raise DovecotError(
            f"dovecot on {self.host}:{self.port} did not accept LOGIN and SELECT INBOX within "
            f"{START_TIMEOUT:.0f} s (last error: {last!r}); its log:\n" + self.log_tail())

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=STOP_TIMEOUT)
            # The master is gone; its children (same process group, e.g. the log process
            # flushing) follow it. Give them a moment, then kill what is left.
            if not _wait_group_gone(proc.pid, 2.0):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                _wait_group_gone(proc.pid, STOP_TIMEOUT)

    def restart(self) -> None:
        """Stop and start again on the same port (drops every connection)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its runtime directory (sockets and mail)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------

    def connect(self, timeout: float = COMMAND_TIMEOUT) -> IMAPClient:
        """A new logged-in connection; the caller closes it (logout() or shutdown())."""
        context = ssl.create_default_context(cafile=self.cert_file) if self.tls else None
        c = IMAPClient(self.host, port=self.port, ssl=self.tls, ssl_context=context,
                       use_uid=True, timeout=timeout)
        try:
            c.login(self.user, self.password)
        except BaseException:
            c.shutdown()
            raise
        return c

    @contextlib.contextmanager
    def client(self, timeout: float = COMMAND_TIMEOUT) -> Iterator[IMAPClient]:
        """A logged-in connection that is closed on exit, even if the server dropped it."""
        c = self.connect(timeout)
        try:
            yield c
        finally:
            try:
                c.logout()
            except Exception:
                with contextlib.suppress(Exception):
                    c.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> None:
        with self.client() as c:
            c.append(folder, raw, flags=flags)

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search("ALL"))

    def fetch_all(self, folder: str = "INBOX") -> list[bytes]:
        """Every message of `folder`, raw, in UID order."""
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            uids = sorted(int(u) for u in c.search("ALL"))
            if not uids:
                return []
            data = c.fetch(uids, ["BODY.PEEK[]"])
            return [bytes(data[u][b"BODY[]"]) for u in uids]

    def folders(self) -> list[str]:
        with self.client() as c:
            return [name for _flags, _sep, name in c.list_folders()]

    def _doveadm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.doveadm, "-c", str(self.conf), *args],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
        )

    def connections(self) -> int:
        """How many IMAP sessions of the user the server has (`doveadm who`), -1 if unknown."""
        result = self._doveadm("who", "-1", self.user)
        if result.returncode != 0:
            return -1
        return sum(1 for line in result.stdout.splitlines()[1:] if line.split()[:1] == [self.user])

    def kick(self) -> None:
        """Drop every connection of the user at once, as a server restart or crash would.

        The server stays up on the same port; a client's next command on an old connection
        fails (the server sends `* BYE` and closes it) and a new connection works.
        """
        result = self._doveadm("kick", self.user)  # 68: nobody was connected
        if result.returncode in (0, 68):
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                if self.connections() == 0:
                    return
                time.sleep(0.02)
        # doveadm could not do it: a restart drops every connection just as surely.
        self.restart()

    def log_text(self) -> str:
        """Everything Dovecot logged (its stderr, then its log file)."""
        parts = []
        for f in (self.stderr_file, self.log_file):
            with contextlib.suppress(FileNotFoundError):
                parts.append(f.read_text(errors="replace"))
        return "".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@pytest.fixture(name="dovecot")
def dovecot_fixture(tmp_path: Path) -> Iterator[Dovecot]:
    """A started Dovecot with user `sel@example.org` / `secret`, INBOX and Processed."""
    yield from _started(tmp_path, tls=False)


@pytest.fixture(name="dovecot_tls")
def dovecot_tls_fixture(tmp_path: Path) -> Iterator[Dovecot]:
    """The same, speaking implicit TLS (as port 993 does); clients trust its cert_file."""
    yield from _started(tmp_path, tls=True)


def _started(tmp_path: Path, *, tls: bool) -> Iterator[Dovecot]:
    try:
        server = Dovecot(tmp_path / "dovecot", tls=tls)
    except DovecotError as e:
        pytest.fail(str(e), pytrace=False)
    with server:
        yield server
