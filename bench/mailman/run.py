"""GNU Mailman 3 and mailbot side by side: the same posts, by a member, to a list of N
members, delivered to the same kind of sink (aiosmtpd in this process), in two modes: one
copy per member with its own envelope sender (VERP) and copies sharing a transaction (up
to 50 RCPTs). Not in CI: it installs Mailman from PyPI and takes minutes.

Mailman (from PyPI into a throwaway venv, or the one `--venv` keeps) runs as its operator
would run it: `mailman create`, `mailman addmembers`, `mailman start` (the master and its
runners, SQLite), posts arriving over LMTP as Postfix would hand them over, outbound SMTP
to the sink. mailbot's side is `bench/fanout.py`'s `by_daemon`, called as it is.

    .venv/bin/python bench/mailman/run.py [--members N] [--posts M] [--quick]
        [--db sqlite|postgresql] [--venv DIR] [--mailman VERSION]
"""

import argparse
import asyncio
import os
import re
import signal
import smtplib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (
    FIGURES,
    PY,
    BenchError,
    Sink,
    bounded,
    child,
    emit,
    free_port,
    message,
)
from fanout import by_daemon, delivered
from run_all import machine

VERSION = "3.3.10"
MEMBER = "member0@example.net"
STARTED = re.compile(r"\(\d+\) \w+ runner started\.")
CONFIG = """\
[mailman]
layout: bench
site_owner: owner@example.org

[paths.bench]
var_dir: {var}

[webservice]
hostname: 127.0.0.1
port: {rest_port}

[mta]
# No Postfix: nothing to regenerate; posts come straight to the LMTP runner.
incoming: mailman.mta.null.NullMTA
smtp_host: 127.0.0.1
smtp_port: {sink_port}
lmtp_host: 127.0.0.1
lmtp_port: {lmtp_port}
# mailbot's outbound.batch_recipients (Mailman's default is 10).
max_recipients: 50
# 1: VERP every post (one copy per member); 0: never (shared copies).
verp_delivery_interval: {verp}
"""


class Mailman:
    """A Mailman 3 site in `root`: its config, CLI, processes (master and runners)."""

    def __init__(self, venv: Path, root: Path) -> None:
        self.venv, self.root, self.var = venv, root, root / "var"
        self.config, self.log = root / "mailman.cfg", root / "cli.log"
        self.lmtp_port, self.master = 0, 0
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
                    "LANG": "C.UTF-8", "MAILMAN_CONFIG_FILE": str(self.config)}

    def configure(self, sink_port: int, *, verp: bool) -> None:
        self.lmtp_port = free_port()
        self.config.write_text(CONFIG.format(var=self.var, rest_port=free_port(),
                                             sink_port=sink_port, lmtp_port=self.lmtp_port,
                                             verp=int(verp)))

    async def cli(self, *args: str, timeout: float) -> None:
        """One `mailman ARGS…`, its output in cli.log (`start` leaves the master holding it)."""
        root = ["--run-as-root"] if os.geteuid() == 0 else []
        with self.log.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                str(self.venv / "bin" / "mailman"), *root, *args, env=self.env, cwd=self.root,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise BenchError(f"mailman {args[0]} still running after {timeout:.0f}s") from None
        if code:
            raise BenchError(f"mailman {args[0]} exited {code}: {tail(self.log)}")

    async def start(self, timeout: float = 240) -> float:
        """Start the master; return the seconds until every runner said it started and the
        LMTP port answers (runners poll their queues, so a post before that would wait)."""
        log = self.var / "logs" / "mailman.log"
        offset = log.stat().st_size if log.exists() else 0
        (self.var / "master.pid").unlink(missing_ok=True)  # the last run's, if it was killed
        started = time.monotonic()
        await self.cli("start", "--force", timeout=60)
        while time.monotonic() - started < timeout:
            if self.ready(log, offset) and await answers(self.lmtp_port):
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        raise BenchError(f"mailman not ready after {timeout:.0f}s: {tail(log)}")

    def ready(self, log: Path, offset: int) -> bool:
        pid_file = self.var / "master.pid"
        if not self.master and pid_file.exists() and pid_file.read_text().strip():
            self.master = int(pid_file.read_text())
        if not self.master:
            return False
        if not Path(f"/proc/{self.master}").exists():
            raise BenchError(f"mailman's master exited: {tail(log)}")
        with log.open("rb") as file:
            file.seek(offset)
            said = len(STARTED.findall(file.read().decode(errors="replace")))
        runners = children_of().get(self.master, [])
        return bool(runners) and said >= len(runners)

    def peak_rss_mb(self) -> float:
        """VmHWM summed over the master and every process under it (runners, REST workers)."""
        return sum(vm_hwm_kb(pid) for pid in [self.master, *descendants(self.master)]) / 1024

    async def stop(self) -> None:
        """`mailman stop`, up to 30 s for the processes to go, then SIGKILL what is left."""
        if not self.master:
            return
        pids = [self.master, *descendants(self.master)]
        try:
            await self.cli("stop", timeout=30)
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(self.ours(pid) for pid in pids):
            await asyncio.sleep(0.2)
        for pid in filter(self.ours, pids):
            os.kill(pid, signal.SIGKILL)
        self.master = 0

    def ours(self, pid: int) -> bool:
        """Still running, and still one of this venv's processes (not a reused pid)."""
        try:
            return str(self.venv).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = children_of(), list[int](), [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def vm_hwm_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmHWM:\s+(\d+)", status)
    return int(found[1]) if found else 0


async def answers(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


def tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return " | ".join(text.strip().splitlines()[-lines:])


async def install(venv: Path, version: str) -> None:
    """Mailman `version` from PyPI into `venv`, unless it is there already."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    python = str(venv / "bin" / "python")
    query = "import importlib.metadata as m; print(m.version('mailman'), m.version('sqlalchemy'))"
    if not (venv / "bin" / "mailman").exists():
        await child(PY, "-m", "venv", str(venv), timeout=180, what="python -m venv", env=env)
    if not (venv / "bin" / "mailman").exists() or version not in await child(
            python, "-c", query, timeout=60, what="the version query", env=env):
        started = time.monotonic()
        await child(python, "-m", "pip", "install", "-q", f"mailman=={version}", timeout=900,
                    what=f"pip install mailman=={version}", env=env)
        emit("mailman.pip_install_s", time.monotonic() - started)
    mailman, sqlalchemy = (await child(python, "-c", query, timeout=60, what="the version query",
                                       env=env)).split()
    print(f"mailman.version={mailman}\nmailman.sqlalchemy_version={sqlalchemy}", flush=True)


async def seed(mm: Mailman, members: int) -> None:
    """The list and its members, as an operator would: `mailman create`, `addmembers`."""
    mm.configure(free_port(), verp=True)
    await mm.cli("create", "sel@example.org", timeout=120)
    roster = mm.root / "members.txt"
    roster.write_text("".join(f"member{i}@example.net\n" for i in range(members)))
    started = time.monotonic()
    await mm.cli("addmembers", "--no-welcome-msg", str(roster), "sel@example.org",
                 timeout=120 + members / 2)
    emit("mailman.members_import_s", time.monotonic() - started)


def post_lmtp(port: int, posts: int) -> float:
    """The posts over one LMTP connection, as Postfix hands them over; when the first was
    accepted (time.monotonic)."""
    first = 0.0
    with smtplib.LMTP("127.0.0.1", port, timeout=60) as lmtp:
        for number in range(posts):
            lmtp.sendmail(MEMBER, ["sel@example.org"], message(MEMBER, f"Annonce {number}"))
            first = first or time.monotonic()
    return first


async def by_mailman(mm: Mailman, members: int, posts: int, name: str, *, verp: bool) -> None:
    sink = Sink()
    await sink.start()
    mm.configure(sink.port, verp=verp)
    try:
        emit(f"{name}.startup_s", await mm.start(), 2)
        first_accept = await asyncio.to_thread(post_lmtp, mm.lmtp_port, posts)
        await delivered(name, sink, members * posts, first_accept, mm.peak_rss_mb)
    finally:
        await mm.stop()
        await sink.stop()


ROWS = (("deliveries/s", "deliveries_per_s"), ("first post to its last copy, s", "first_post_s"),
        ("start-up, s", "startup_s"), ("peak RSS, MB", "peak_rss_mb"))


def compare() -> None:
    """ratio.* lines (mailbot / Mailman) and a table of both rows."""
    lines = ["| mode | figure | mailbot | Mailman | mailbot / Mailman |", "|---|---|---|---|---|"]
    for mode in ("verp", "shared"):
        for label, key in ROWS:
            ours, theirs = FIGURES[f"mailbot.{mode}.{key}"], FIGURES[f"mailman.{mode}.{key}"]
            emit(f"ratio.{mode}.{key}", ours / theirs, 3)
            lines.append(f"| {mode} | {label} | {ours:,.1f} | {theirs:,.1f} | "
                         f"{ours / theirs:.3g} |")
    ours, theirs = FIGURES["mailbot.verp.members_import_s"], FIGURES["mailman.members_import_s"]
    lines.append(f"| | members import, s | {ours:.1f} | {theirs:.1f} | {ours / theirs:.3g} |")
    print("\n".join(lines), flush=True)


async def run(args: argparse.Namespace, tmp: Path) -> None:
    print(machine(), flush=True)
    print(f"size=members {args.members}; posts {args.posts}; mailbot db {args.db}", flush=True)
    venv = Path(args.venv).resolve() if args.venv else tmp / "venv"
    await install(venv, args.mailman)
    for verp, mode in ((True, "verp"), (False, "shared")):
        (tmp / f"mailbot-{mode}").mkdir()
        await by_daemon(args.db, tmp / f"mailbot-{mode}", args.members, args.posts,
                        f"mailbot.{mode}", verp=verp)
    (tmp / "mailman").mkdir()
    mm = Mailman(venv, tmp / "mailman")
    try:
        await seed(mm, args.members)
        for verp, mode in ((True, "verp"), (False, "shared")):
            await by_mailman(mm, args.members, args.posts, f"mailman.{mode}", verp=verp)
    finally:
        await mm.stop()
    compare()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="200 members × 5 posts")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite",
                        help="mailbot's database (Mailman's stays SQLite)")
    parser.add_argument("--venv", help="keep Mailman's venv here and reuse it next time")
    parser.add_argument("--mailman", default=VERSION, help=f"version to install ({VERSION})")
    args = parser.parse_args()
    if args.quick:
        args.members, args.posts = 200, 5
    # Mailman's VERP mode ran at 30-40 deliveries/s here: its time dominates.
    limit = 2400 + args.members * args.posts / 20
    bounded("bench: mailman/run.py", lambda tmp: run(args, tmp), limit)


if __name__ == "__main__":
    main()
