"""Shared bench parts: a throwaway database, a config, the real daemon, SMTP sinks, a raw sender.

Every wait is bounded: a bench that cannot finish says why in one line and exits 1.
`python bench/common.py sink PORT` / `send PORT CONCURRENCY EML RCPTS` (RCPTS: a file with
a line of recipients per transaction) run a bare sink or a bare sender in their own
process, so raw limits have the same process layout as the daemon.
"""

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope

ROOT = Path(__file__).resolve().parents[1]
# The mailbot checkout to measure (default: this one), e.g. a `git archive` of a commit.
SRC = Path(os.environ.get("MAILBOT_SRC", ROOT)).resolve()
sys.path.insert(0, str(SRC))
PY = sys.executable
PG_DSN = os.environ.get("MAILBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
MAX_CONNECTIONS = 8  # the daemon's outbound.max_connections, and the raw sender's concurrency
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(SRC),
                                                                 os.environ.get("PYTHONPATH"))))}
HERE = str(Path(__file__).resolve())
_MID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.M | re.I)
# The sinks offer RFC 2920 PIPELINING, as Postfix and Exim do (aiosmtpd reads pipelined
# commands but does not say so); MAILBOT_BENCH_PIPELINING=0 measures without it.
PIPELINING = os.environ.get("MAILBOT_BENCH_PIPELINING", "1") != "0"
FIGURES: dict[str, float] = {}  # every figure emitted so far, for scripts that compare runs


class BenchError(Exception):
    """A bench that cannot finish: the one line it prints."""


def emit(name: str, value: float, digits: int = 1) -> None:
    FIGURES[name] = value
    shown = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    print(f"{name}={shown}", flush=True)


def main(run: Callable[[str, bool, Path], Awaitable[None]], limit: float,
         parser: argparse.ArgumentParser | None = None) -> None:
    """Parse --db/--quick (on `parser`, which may know a bench's own options), run
    `run(db, quick, tmp)` within `limit` seconds, exit 1 on failure with one line
    (BENCH_TRACEBACK=1 for the traceback)."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    bounded(f"bench: {Path(sys.argv[0]).name} --db {args.db}",
            lambda tmp: run(args.db, args.quick, tmp), limit)


def bounded(where: str, run: Callable[[Path], Awaitable[None]], limit: float) -> None:
    """`run(tmp)` in a temporary folder within `limit` seconds; on failure exit 1 with one
    line starting with `where`."""
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp:
            asyncio.run(_cancelled_by_sigterm(asyncio.wait_for(run(Path(tmp)), limit)))
    except BenchError as exc:
        sys.exit(f"{where}: {exc}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(f"{where}: interrupted (SIGINT or SIGTERM)")
    except Exception as exc:
        if os.environ.get("BENCH_TRACEBACK"):
            raise
        if isinstance(exc, TimeoutError) and time.monotonic() - started >= limit:
            sys.exit(f"{where}: gave up after {limit:.0f}s")
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        sys.exit(f"{where}: {type(exc).__name__}: {exc}".splitlines()[0]
                 + f" (at {frame.filename}:{frame.lineno})")


async def _cancelled_by_sigterm(bench: Awaitable[None]) -> None:
    """SIGTERM cancels the bench as SIGINT does, so that its `finally`s stop the daemon and
    drop the schema (a handler raising in whatever code runs would leave a task orphaned)."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await bench


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh SQLAlchemy URL: a SQLite file in `tmp`, or a PostgreSQL schema dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'mailbot.db'}"
        return
    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        url = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def sql(url: str, statement: str) -> Any:
    """One statement on the bench's own connection (not mailbot's engine); its first value."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


@contextlib.contextmanager
def polling(url: str) -> Iterator[Callable[[str], Any]]:
    """`sql` for a loop that asks the database every few hundredths of a second: one
    engine for all the questions. (`sql` opens a connection each time; on PostgreSQL a
    server process of its own, some 5 ms of the bench's CPU and more of the server's,
    taken from the daemon being measured.)"""
    engine = sa.create_engine(url)

    def first_value(statement: str) -> Any:
        with engine.connect() as conn:  # a new snapshot each time (SQLite reads one)
            return conn.execute(sa.text(statement)).scalar()

    try:
        yield first_value
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(tmp: Path, url: str, *, sink_port: int, port: int, outbound: str = "",
                 hostname: str = "lists.example.org", server: str = "") -> Path:
    """A config with one list `sel@example.org` on the default rules, sending to the sink;
    `outbound`, `server`: more lines for its [outbound] and [server] sections."""
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "rules" / "default.toml").write_bytes((SRC / "rules" / "default.toml").read_bytes())
    (tmp / "rules" / "sel.toml").write_text("")
    path = tmp / "config.toml"
    path.write_text(f'[server]\nlisten = "127.0.0.1:{port}"\ndatabase_url = "{url}"\n'
                    'timezone = "Europe/Paris"\nlanguage = "fr"\nrules_dir = "rules"\n'
                    f'hostname = "{hostname}"\n{server}\n[outbound]\n'
                    f'smtp = "127.0.0.1:{sink_port}"\nmax_connections = {MAX_CONNECTIONS}\n'
                    f'timeout = 30\n{outbound}\n[[list]]\nname = "sel"\ndomain = "example.org"\n'
                    'title = "SEL de Saint-Martin"\nmoderators = ["alice@example.org"]\n'
                    'rules = "sel"\n')
    return path


async def child(*argv: str, timeout: float, what: str,
                env: dict[str, str] | None = None) -> str:
    """A subprocess to completion within `timeout`; its stdout, or BenchError."""
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env or ENV, cwd=SRC, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise BenchError(f"{what} still running after {timeout:.0f}s") from None
    if proc.returncode:
        raise BenchError(f"{what} exited {proc.returncode}: {err.decode().strip()[-300:]}")
    return out.decode()


async def cli(config: Path, *args: str, timeout: float = 900) -> str:
    """One `mailbot -c CONFIG ARGS…` (cwd: the measured checkout, so `-m` imports it)."""
    return await child(PY, "-m", "mailbot.cli", "-c", str(config), *args, timeout=timeout,
                       what=f"mailbot {' '.join(args)[:80]}")


async def import_members(config: Path, tmp: Path, emails: list[str]) -> float:
    """Seed through the real `mailbot members import`; return how long it took."""
    csv = tmp / "members.csv"
    csv.write_text("email,name\n" + "".join(f"{e},{e.split('@')[0]}\n" for e in emails))
    started = time.monotonic()
    await cli(config, "members", "import", "--list", "sel", str(csv))
    return time.monotonic() - started


class Daemon:
    """`mailbot serve` in its own process, its log in a file."""

    def __init__(self, config: Path, port: int) -> None:
        self.config, self.port, self.log = config, port, config.parent / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 60) -> float:
        """Start it; return the seconds until its SMTP port accepted a connection."""
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [PY, "-m", "mailbot.cli", "-c", str(self.config), "serve"], env=ENV, cwd=SRC,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise BenchError(f"mailbot serve exited {self.proc.returncode}: {self.tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return time.monotonic() - started
        raise BenchError(f"mailbot serve not listening after {timeout:.0f}s: {self.tail()}")

    def peak_rss_mb(self) -> float:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024  # type: ignore[index]

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user and system) used so far by the daemon's process and by its
        worker processes (its children), from /proc."""
        assert self.proc is not None
        tick, own, children = os.sysconf("SC_CLK_TCK"), 0.0, 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:  # after the ")" of the command's name: state, ppid, … utime (12), stime
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:  # gone meanwhile
                continue
            seconds = (int(fields[11]) + int(fields[12])) / tick
            if int(entry.name) == self.proc.pid:
                own = seconds
            elif int(fields[1]) == self.proc.pid:
                children += seconds
        return own, children

    async def settled(self, timeout: float = 30) -> None:
        """Until the daemon and its workers are idle (their start-up done: under half a
        hundredth of a second of CPU in half a second), at most `timeout` seconds."""
        started, last = time.monotonic(), sum(self.cpu_seconds())
        while time.monotonic() - started < timeout:
            await asyncio.sleep(0.5)
            now = sum(self.cpu_seconds())
            if now - last < 0.005:
                return
            last = now

    def tail(self, lines: int = 3) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def errors(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if " ERROR " in line]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.asynccontextmanager
async def serving(config: Path, port: int, name: str) -> AsyncIterator[Daemon]:
    """A daemon stopped at the end whatever happens; its logged errors become a figure."""
    daemon = Daemon(config, port)
    try:
        yield daemon
    finally:
        daemon.stop()
        if errors := daemon.errors():
            emit(f"{name}.daemon_logged_errors", len(errors))
            print(f"bench: {name}: the daemon logged: {errors[0][:200]}", file=sys.stderr)


def message(sender: str, subject: str, body: str = "Un message pour la liste.\n", *,
            refs: str = "") -> bytes:
    """A plain post as a member's client would send it, with its own Message-ID."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "sel@example.org", subject
    msg["Message-ID"] = make_msgid(domain="example.net")
    if refs:
        msg["In-Reply-To"] = msg["References"] = refs
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)


def message_id(raw: bytes) -> bytes:
    found = _MID.search(raw)
    return found[1] if found else b""


class Sink:
    """A real aiosmtpd server on loopback: counts (Message-ID, recipient) pairs, connections
    and times (`done`: when each Message-ID last arrived), or (`keep=True`, the bare intake
    sink) only keeps every message in memory."""

    def __init__(self, keep: bool = False) -> None:
        self.keep, self.kept, self.pairs = keep, list[bytes](), set[tuple[bytes, str]]()
        # the bare intake sink speaks as mailbot's intake does: it offers no PIPELINING
        self.pipelining = PIPELINING and not keep
        self.deliveries, self.transactions, self.connections = 0, 0, 0
        self.first, self.last = 0.0, 0.0
        self.sample, self.port = b"", 0  # the first message received
        self.done: dict[bytes, float] = {}
        self.server: asyncio.Server | None = None

    async def handle_EHLO(self, server: Any, session: Any, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        raw: bytes = envelope.original_content or b""
        if self.keep:
            self.kept.append(raw)
            return "250 2.0.0 OK"
        self.sample = self.sample or raw
        mid = message_id(raw)
        self.pairs.update((mid, rcpt) for rcpt in envelope.rcpt_tos)
        self.deliveries += len(envelope.rcpt_tos)
        self.transactions += 1
        self.last = self.done[mid] = time.monotonic()
        self.first = self.first or self.last
        return "250 2.0.0 OK"

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(self, decode_data=False, enable_SMTPUTF8=True), "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


class RawClient:
    """The least an SMTP client can do: EHLO once, then for each message MAIL, RCPTs and
    DATA (as one group when the server offers PIPELINING, RFC 2920, else one by one) and
    the message. No parsing beyond each reply's code; any refusal stops the bench."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.pipelining = reader, writer, False

    @classmethod
    async def connect(cls, port: int) -> "RawClient":
        client = cls(*await asyncio.open_connection("127.0.0.1", port))
        await client.replies(1)
        client.writer.write(b"EHLO raw.example.org\r\n")
        [ehlo] = await client.replies(1, keep=True)
        client.pipelining = b"PIPELINING" in ehlo
        return client

    async def replies(self, count: int, keep: bool = False) -> list[bytes]:
        said = []
        for _ in range(count):
            reply = line = await self.reader.readline()
            while line[3:4] == b"-":
                line = await self.reader.readline()
                reply += line
            if line[:1] not in (b"2", b"3"):
                raise BenchError(f"the sink refused: {line!r}")
            said.append(reply if keep else line[:3])
        return said

    async def send(self, sender: str, rcpts: list[str], content: bytes) -> None:
        """`content`: the message with CRLF line ends, dot-stuffed, ending in CRLF.CRLF."""
        commands = [f"MAIL FROM:<{sender}>".encode(),
                    *(f"RCPT TO:<{r}>".encode() for r in rcpts), b"DATA"]
        if self.pipelining:
            self.writer.write(b"\r\n".join(commands) + b"\r\n")
            await self.replies(len(commands))
        else:
            for command in commands:
                self.writer.write(command + b"\r\n")
                await self.replies(1)
        self.writer.write(content)
        await self.replies(1)

    async def quit(self) -> None:
        self.writer.write(b"QUIT\r\n")
        await self.replies(1)
        self.writer.close()


def wire_form(raw: bytes) -> bytes:
    """The message as DATA carries it."""
    raw = re.sub(rb"\r\n|\n|\r(?!\n)", b"\r\n", raw)
    raw = re.sub(rb"(?m)^\.", b"..", raw)
    return raw + (b"" if raw.endswith(b"\r\n") else b"\r\n") + b".\r\n"


async def raw_send(port: int, messages: list[tuple[str, list[str], bytes]],
                   concurrency: int) -> list[float]:
    """Send (mail from, rcpts, raw) over `concurrency` connections, one transaction per
    message (one RCPT each as the daemon does with VERP, or several as it does without);
    return each message's seconds from MAIL FROM to the final 250."""
    pending, latencies = list(reversed(messages)), list[float]()
    wire = {id(raw): wire_form(raw) for _, _, raw in messages}

    async def one_connection() -> None:
        client = await RawClient.connect(port)
        while pending:
            sender, rcpts, raw = pending.pop()
            started = time.monotonic()
            await client.send(sender, rcpts, wire[id(raw)])
            latencies.append(time.monotonic() - started)
        await client.quit()

    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    return latencies


async def raw_send_process(port: int, raw: bytes, transactions: list[list[str]], tmp: Path,
                           timeout: float) -> float:
    """`raw_send` of `raw` in these transactions (each a list of RCPTs) with
    MAX_CONNECTIONS, in its own process; its seconds from the first connection to the last
    250."""
    (tmp / "raw.eml").write_bytes(raw)
    (tmp / "rcpts.txt").write_text("\n".join(" ".join(t) for t in transactions))
    out = await child(PY, HERE, "send", str(port), str(MAX_CONNECTIONS), str(tmp / "raw.eml"),
                      str(tmp / "rcpts.txt"), timeout=timeout, what="the raw sender")
    return float(out)


@contextlib.asynccontextmanager
async def bare_sink_process(port: int) -> AsyncIterator[None]:
    """A bare aiosmtpd sink that keeps messages in memory, in its own process."""
    proc = await asyncio.create_subprocess_exec(PY, HERE, "sink", str(port),
                                                stdout=subprocess.PIPE, env=ENV)
    try:
        assert proc.stdout is not None
        if not (await asyncio.wait_for(proc.stdout.readline(), 30)).startswith(b"ready"):
            raise BenchError("the bare sink did not start")
        yield
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _child_main(argv: list[str]) -> None:
    if argv[0] == "sink":
        sink = Sink(keep=True)
        await sink.start(int(argv[1]))
        print("ready", flush=True)
        await asyncio.Event().wait()  # until killed
    body = Path(argv[3]).read_bytes()
    groups = [line.split() for line in Path(argv[4]).read_text().splitlines()]
    started = time.monotonic()
    await raw_send(int(argv[1]), [("raw@example.org", g, body) for g in groups], int(argv[2]))
    print(time.monotonic() - started)


if __name__ == "__main__":
    asyncio.run(_child_main(sys.argv[1:]))
