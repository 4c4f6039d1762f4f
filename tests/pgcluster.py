"""A throwaway PostgreSQL cluster of a test's own, to stop and restart at will.

The machine's shared server (5432) is never touched: `initdb` makes a new cluster in a
temporary folder owned by the `postgres` user (the tests run as root, and PostgreSQL
refuses to run as root), and `pg_ctl` serves it on a free port, with its unix socket in
that folder. Everything is bounded in time, and `close()` stops it and deletes the folder.
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_TIMEOUT = 60  # seconds for any one initdb / pg_ctl


def pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb and pg_ctl, if any."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [b for b in found if (b / "pg_ctl").exists()]
    return max(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0,
               default=None)


def unavailable() -> str | None:
    """Why a private cluster cannot be made here (None: it can)."""
    if pg_bin() is None:
        return "no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
    if os.geteuid() != 0:
        return "must run as root to start PostgreSQL as the postgres user"
    if shutil.which("runuser") is None:
        return "runuser is missing"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres user"
    return None


class PgCluster:
    """One cluster: `start()`, `restart()`, `stop()`; `url` for SQLAlchemy."""

    def __init__(self, port: int) -> None:
        binary = pg_bin()
        assert binary is not None, unavailable()
        self.bin, self.port = binary, port
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-pg-"))
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data, self.logfile = self.root / "data", self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> str:
        command = ["runuser", "-u", "postgres", "--", str(self.bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=PG_TIMEOUT,
                              cwd=self.root, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}\n--- server log:\n{self.log()}")
        return done.stdout

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--locale=C")

    def start(self) -> None:
        # fsync off only spares the disk: a stopped or crashed server loses nothing the OS
        # has; synchronous_commit stays on, so a commit that returned is in the WAL
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w",
                  "-t", str(PG_TIMEOUT), "-o", options, "start")

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart -m MODE`: every connection is cut; back when this returns."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w",
                  "-t", str(PG_TIMEOUT), "-m", mode, "restart")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", str(PG_TIMEOUT), "-m", mode,
                  "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def pg_cluster(port: int) -> Iterator[PgCluster]:
    """A started cluster on `port`, stopped and deleted on the way out."""
    cluster = PgCluster(port)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.close()
