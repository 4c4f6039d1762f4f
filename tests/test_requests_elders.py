"""The elders eval's dev half (tests/data/elders, README beside it), scored end to end as
shared/eval/elders/score.py scores it: a scratch SQLite list with members.csv imported and
world/ injected, then `mailbot explain --json --to ADDRESS -c CONFIG FILE…` by address, the
first request compared with the label. Fails under 90% of actions, 85% of arguments, or
with any message left silent or answered with the manual."""

import collections
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mailbot.cli import main

ELDERS = Path(__file__).parent / "data" / "elders"
KEY_ARGS = ("who", "points", "proposal", "item", "mode", "language")


def scratch_list(tmp: Path) -> Path:
    """The list of score.py: sel@example.org, two moderators, no DNS lookups."""
    (tmp / "rules").mkdir()
    (tmp / "rules" / "default.toml").write_text("")
    (tmp / "rules" / "sel.toml").write_text('[posting]\nfrom_rewrite = "never"\n')
    config = tmp / "config.toml"
    config.write_text(textwrap.dedent(f"""\
        [server]
        listen = ""
        lmtp_listen = ""
        database_url = "sqlite:///{tmp / 'elders.db'}"
        timezone = "Europe/Paris"
        language = "fr"
        rules_dir = "rules"
        separator = "-"
        hostname = "localhost"

        [outbound]
        maildir = "{tmp / 'outbox'}"

        [[list]]
        name = "sel"
        domain = "example.org"
        title = "SEL de Saint-Martin"
        moderators = ["francoise.bernard@example.org", "peter.hughes@example.org"]
        rules = "sel"
        """))
    world = sorted(str(p) for p in (ELDERS / "world").glob("*.eml"))
    assert main(["-c", str(config), "members", "import", "--list", "sel",
                 str(ELDERS / "members.csv")]) == 0
    assert main(["-c", str(config), "inject", *world]) == 0
    return config


def rows() -> list[dict[str, Any]]:
    lines = (ELDERS / "dev.tsv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    found = [dict(zip(head, line.split("\t"), strict=True)) for line in lines[1:] if line]
    for row in found:
        row["file"] = str(ELDERS / "msgs" / f"{row['id']}.eml")
        row["args"] = json.loads(row["expected_args"] or "{}")
    return found


def explained(config: Path, labelled: list[dict[str, Any]],
              capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    by_to: dict[str, list[str]] = collections.defaultdict(list)
    for row in labelled:
        by_to[row["to"]].append(row["file"])
    capsys.readouterr()
    out: dict[str, dict[str, Any]] = {}
    for to, files in by_to.items():
        assert main(["explain", "--json", "--to", to, "-c", str(config), *files]) == 0
        for line in capsys.readouterr().out.splitlines():
            result = json.loads(line)
            out[result["file"]] = result
    return out


def same(key: str, want: Any, got: Any) -> bool:
    if got is None:
        return False
    if key in ("who", "mode", "language"):
        return str(got).strip().lower() == str(want).strip().lower()
    try:
        return int(got) == int(want)
    except (TypeError, ValueError):
        return False


def test_the_elders_dev_half_through_explain(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    labelled = rows()
    results = explained(scratch_list(tmp_path), labelled, capsys)
    action_ok = args_ok = args_n = 0
    silent: list[str] = []
    failures: list[str] = []
    for row in labelled:
        got = results[row["file"]]
        assert got["error"] is None, got
        requests = got.get("requests") or []
        first = requests[0] if requests else {}
        want, action = row["expected_action"], first.get("action")
        ok = action == want or (want == "post" and action in (None, "post"))
        keys = [k for k in KEY_ARGS if k in row["args"]]
        arguments_ok = ok and all(same(k, row["args"][k], first.get(k)) for k in keys)
        action_ok += ok
        if keys:
            args_n += 1
            args_ok += arguments_ok
        if want not in ("help", "post") and action in (None, "help"):
            silent.append(row["id"])
        if not arguments_ok:
            failures.append(f"{row['id']}: want {want} {row['args']}, got {first}")
    report = "\n".join(failures)
    assert action_ok >= 0.90 * len(labelled), report
    assert args_ok >= 0.85 * args_n, report
    assert not silent, f"silent or the manual for {silent}\n{report}"


def test_explain_resolves_names_and_numbers_against_the_database_and_writes_nothing(
        tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.helpers import make_message, write_config

    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    roster = tmp_path / "members.csv"
    roster.write_text("email,name\nmarie.dubois@example.org,Marie Dubois\n"
                      "marie.lefevre@example.net,Marie Lefèvre\nbob@example.net,Bob Martin\n")
    assert main(["-c", str(config), "db", "upgrade"]) == 0
    assert main(["-c", str(config), "members", "import", "--list", "sel", str(roster)]) == 0
    pay, ambiguous = tmp_path / "pay.eml", tmp_path / "ambiguous.eml"
    bob = {"sender": "bob@example.net", "name": "Bob", "to": "sel-request@example.org"}
    pay.write_bytes(make_message(**bob, subject="merci", body="Je dois une heure et demie à "
                                 "Mme Dubois pour les confitures.\n"))
    ambiguous.write_bytes(make_message(**bob, subject="covoiturage", body="payer Marie 1h\n"))
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert main(["explain", "--json", "-c", str(config), str(pay), str(ambiguous)]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["requests"][0] == {"action": "pay", "args": [],
                                    "who": "marie.dubois@example.org", "points": 90,
                                    "memo": "confitures"}
    asked = second["requests"][0]
    assert asked["action"] == "unclear" and "Marie" in asked["ask"]
    assert asked["candidates"] == ["marie.dubois@example.org", "marie.lefevre@example.net"]
    assert _snapshot(tmp_path) == before  # the database file unchanged, nothing else made
    assert not (tmp_path / "outbox").exists()


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Files and their size and time; SQLite's shared-memory index of a WAL database
    (-shm, -wal), which any reader makes when it is missing, left aside."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))}
