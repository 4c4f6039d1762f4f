"""`mailbot explain`: what mailbot reads in message files and what it would do, changing
nothing: with no config, with a config and no database, on a read-only database."""

import json
import stat
from pathlib import Path

import pytest

from mailbot.cli import main
from tests.helpers import ROOT, make_message, write_config

BOUNCES = ROOT / "tests" / "data" / "bounces"


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def reply_file(tmp_path: Path, body: str, name: str = "reply.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(make_message(subject="Re: [sel] [PROPOSITION] Fête", body=body))
    return path


def test_json_reads_a_reply_and_a_bounce_without_any_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here
    reply = reply_file(tmp_path, "OBJECTION : trop cher.\n\nLe lun. 23 nov. 2026, Paul a "
                                 "écrit :\n> On fait la fête ?\n")
    bounce = BOUNCES / "postfix-text-mailman.eml"
    code, out, err = explain(capsys, "--json", str(reply), str(bounce))
    assert (code, err) == (0, "")
    first, second = lines(out)
    assert first["file"] == str(reply) and first["error"] is None
    read = first["reply"]
    assert isinstance(read, dict)
    assert read["input"].replace("\r\n", "\n") == (
        "OBJECTION : trop cher.\n\nLe lun. 23 nov. 2026, Paul a écrit :\n"
        "> On fait la fête ?\n")
    assert (read["text"], read["first_line"], read["stance"]) == (
        "OBJECTION : trop cher.", "OBJECTION : trop cher.", "objection")
    assert "requests" not in first  # no config: nothing to resolve against
    report = second["bounce"]
    assert isinstance(report, dict) and report["report"] == "failure" and report["permanent"]


def test_a_file_that_cannot_be_read_gets_one_line_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = reply_file(tmp_path, "+1\n")
    code, out, err = explain(capsys, "--json", str(tmp_path / "missing.eml"), str(good))
    missing, fine = lines(out)
    assert code == 1 and err == ""
    assert isinstance(missing["error"], str) and "\n" not in missing["error"]
    assert fine["error"] is None and fine["reply"]["stance"] == "support"  # type: ignore[index]


def test_body_mode_reads_plain_text_and_html(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("Je m'oppose.\n\n-- \nMarie\n")
    (tmp_path / "b.html").write_text("<p>D'accord&nbsp;!</p><blockquote>old</blockquote>")
    code, out, _ = explain(capsys, "--json", "--body", str(tmp_path / "a.txt"),
                           str(tmp_path / "b.html"))
    plain, html = lines(out)
    assert code == 0
    assert plain["reply"]["text"] == "Je m'oppose." and plain["reply"]["stance"] == "objection"  # type: ignore[index]
    assert html["reply"]["stance"] == "support"  # type: ignore[index]


def test_with_a_config_it_names_the_list_address_and_the_commands_and_writes_nothing(
        tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    message = tmp_path / "cmd.eml"
    message.write_bytes(make_message(to="sel-request@example.org", subject="aide",
                                     body="solde\n"))
    code, out, _ = explain(capsys, "-c", str(config), "--json", str(message))
    assert code == 0
    assert lines(out)[0]["requests"] == [{"action": "help", "args": []},
                                         {"action": "balance", "args": []}]
    code, out, _ = explain(capsys, "-c", str(config), str(message))
    assert "sent to sel-request@example.org: the request address of list sel" in out
    assert "help; balance" in out
    assert not (tmp_path / "outbox").exists()
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()


def test_a_read_only_database_is_enough(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    database = tmp_path / "ro.db"
    config = write_config(tmp_path, f"sqlite:///{database}", maildir=tmp_path / "outbox")
    assert main(["-c", str(config), "db", "upgrade"]) == 0
    capsys.readouterr()
    database.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)  # no journal file can be made either
    try:
        code, out, err = explain(capsys, "-c", str(config), "--json",
                                 str(reply_file(tmp_path.parent, "-1\n", f"{tmp_path.name}.eml")))
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    assert (code, err) == (0, "") and lines(out)[0]["reply"]["stance"] == "objection"  # type: ignore[index]


def test_the_person_readable_form_says_why_a_reply_was_a_comment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reply = reply_file(tmp_path, "Bonjour,\nPourquoi pas, mais je m'interroge.\n")
    code, out, _ = explain(capsys, str(reply))
    assert code == 0
    assert "first line: 'Bonjour,'" in out
    assert "stance, in a proposal's thread: comment" in out
