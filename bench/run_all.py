"""Every bench on both databases, one figure per line, each prefixed with its database,
after one line describing the machine. Exits 1 if any bench failed (the others still run).

    .venv/bin/python bench/run_all.py [--quick] [--only fanout,intake,worker,digests,decisions]
                                      [--db sqlite|postgresql]
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from common import PG_DSN

BENCHES = ("fanout", "intake", "worker", "digests", "decisions")
HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    ram = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])  # type: ignore[index]
    try:
        with psycopg.connect(PG_DSN, connect_timeout=10) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            postgres = str(row[0]) if row else "?"
    except psycopg.Error as exc:
        postgres = f"unreachable ({str(exc).strip()[:60]})"
    return (f"machine=nproc {os.cpu_count()}; cpu {model[1] if model else '?'}; "
            f"ram {ram / 1024 / 1024:.1f} GiB; python {platform.python_version()}; "
            f"postgresql {postgres}; load {os.getloadavg()[0]:.2f}")


def run(bench: str, db: str, quick: bool) -> bool:
    """One bench as a subprocess, its lines prefixed; its own limits bound it, this too."""
    command = [sys.executable, str(HERE / f"{bench}.py"), "--db", db, *(["--quick"] * quick)]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=1900 if quick else 4 * 3600 + 300)
    except subprocess.TimeoutExpired:
        print(f"{db}.{bench}.error=killed after its own time limit", flush=True)
        return False
    for line in done.stdout.splitlines():
        print(f"{db}.{line}", flush=True)
    print(f"{db}.{bench}.wall_s={time.monotonic() - started:.1f}", flush=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"{db}.{bench}.error=exit {done.returncode}: {last}", flush=True)
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(BENCHES))
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"],
                        help="only this database (repeatable; default: both)")
    args = parser.parse_args()
    print(machine(), flush=True)
    results = [run(bench, db, args.quick) for bench in args.only.split(",")
               for db in args.db or ("sqlite", "postgresql")]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
