"""The built wheel, installed as an operator would, tried outside any checkout.

Usage: python3 .ci/smoke_wheel.py dist/mailbot-*.whl

A fresh venv in a temporary folder gets the wheel (and its dependencies from PyPI); a site
folder there holds a config and a rules folder with only the list's own file. Then:
`--version`, `check`, two members added, `serve` started, a post and a command sent with
`mailbot send`, and the outbox must hold the post's copies and the command's answer, with
nothing quarantined (`mailbot status`). Exit 0 on success; any failure says what.
"""

import mailbox
import os
import socket
import subprocess
import sys
import tempfile
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

CONFIG = """\
[server]
listen = "127.0.0.1:{port}"
database_url = "sqlite:///var/mailbot.db"
rules_dir = "rules"
hostname = "lists.example.org"

[outbound]
maildir = "var/outbox"

[[list]]
name = "sel"
domain = "example.org"
title = "SEL de Saint-Martin"
moderators = ["alice@example.org"]
rules = "sel"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"smoke: {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def delivered(outbox: Path) -> list[tuple[str, str]]:
    if not outbox.exists():
        return []
    messages = [BytesParser(policy=policy.default).parsebytes(m.as_bytes())
                for m in mailbox.Maildir(outbox)]
    return [(str(m["Delivered-To"]), str(m["Subject"])) for m in messages]


def main(wheel: str) -> None:
    with tempfile.TemporaryDirectory(prefix="mailbot-smoke-") as tmp:
        root = Path(tmp)
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(Path(wheel).resolve())],
                       check=True)
        site = root / "site"
        (site / "rules").mkdir(parents=True)
        (site / "rules" / "sel.toml").write_text('[posting]\nwho = "members"\n')
        port = free_port()
        (site / "config.toml").write_text(CONFIG.format(port=port))
        bot = str(venv / "bin" / "mailbot")
        print(run(bot, "--version", cwd=site).strip())
        print(run(bot, "check", "-c", "config.toml", cwd=site).strip())
        run(bot, "-c", "config.toml", "members", "add", "--list", "sel", "marie@example.com",
            "Marie Dubois", cwd=site)
        run(bot, "-c", "config.toml", "members", "add", "--list", "sel", "bob@example.net",
            "Bob", cwd=site)
        log = (root / "serve.log").open("w")
        daemon = subprocess.Popen([bot, "serve", "-c", "config.toml"], cwd=site, stdout=log,
                                  stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": ""})
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            run(bot, "-c", "config.toml", "send", "--from", "marie@example.com", "--to",
                "sel@example.org", "--subject", "Réunion jeudi", "On se retrouve à 18h.",
                cwd=site)
            run(bot, "-c", "config.toml", "send", "--from", "bob@example.net", "--to",
                "sel-request@example.org", "--subject", "", "solde", cwd=site)
            outbox = site / "var" / "outbox"
            for _ in range(300):
                got = delivered(outbox)
                if len(got) >= 3:
                    break
                time.sleep(0.1)
            status = run(bot, "-c", "config.toml", "status", cwd=site)
        finally:
            daemon.terminate()
            daemon.wait(30)
            log.close()
        print(status.strip())
        print("\n".join(f"  {to}: {subject}" for to, subject in got))
        problems = []
        if sorted(to for to, s in got if s == "[sel] Réunion jeudi") != \
                ["bob@example.net", "marie@example.com"]:
            problems.append("the post did not reach both members")
        if not any(to == "bob@example.net" and "solde" in s.lower() for to, s in got):
            problems.append("the command `solde` got no answer")
        if "quarantined: 0" not in status:
            problems.append("something was quarantined")
        server_log = (root / "serve.log").read_text()
        if "Traceback" in server_log or "TemplateNotFound" in server_log:
            problems.append("the daemon logged an error")
        if problems:
            print(server_log)
            sys.exit("smoke: " + "; ".join(problems))
        print("smoke: the installed wheel serves, posts and answers")


if __name__ == "__main__":
    main(sys.argv[1])
