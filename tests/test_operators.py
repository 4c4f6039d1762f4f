"""What an operator relies on: shipped defaults, their own templates, a log line per message,
`--version`, `mailbot status`, secrets kept out of the config file."""

import importlib.metadata
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import update

from mailbot.cli import main
from mailbot.config import load_config
from mailbot.config.rules import ListRules
from mailbot.core.errors import ConfigError
from mailbot.core.logs import JsonFormatter
from mailbot.storage import daemons
from mailbot.storage.models import InboundMessage
from tests.e2e import Driver
from tests.helpers import make_message, write_config

# --- rules and templates ----------------------------------------------------------------


def test_a_rules_folder_may_hold_only_the_lists_own_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                        rules="[posting]\nmax_kb = 300\n")
    (tmp_path / "rules" / "default.toml").unlink()
    rules = load_config(path).lists[0].rules
    assert rules.posting.max_kb == 300  # the list's own file
    assert rules.digest == ListRules().digest  # the rest: the shipped defaults


def test_the_operators_default_toml_overrides_the_shipped_one(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out")
    (tmp_path / "rules" / "default.toml").write_text('[digest]\ntime = "07:30"\n')
    assert load_config(path).lists[0].rules.digest.time == "07:30"
    (tmp_path / "rules" / "default.toml").write_text('[digest]\ntime = "7h"\n')
    with pytest.raises(ConfigError, match=r"default\.toml"):
        load_config(path)


async def test_a_lists_own_template_is_used_and_check_names_it(
        bot: Driver, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own = tmp_path / "templates" / "sel" / "member"
    own.mkdir(parents=True)
    for language in ("fr", "en"):
        (own / f"command-reply.{language}.txt").write_text(
            "Subject: Réponse du SEL ({{ list.title }})\n\nNotre propre texte.\n")
    reply = await bot.command("aide")
    assert reply.message["Subject"] == "Réponse du SEL (SEL de Saint-Martin)"
    assert reply.text().strip() == "Notre propre texte."
    assert main(["-c", str(tmp_path / "config.toml"), "check"]) == 0
    assert "yours: sel/member/command-reply" in capsys.readouterr().out


@pytest.mark.parametrize(("files", "complaint"), [
    ({"member/command-reply.fr.txt": "Subject: x {{ oops( }}\n"}, "command-reply.fr.txt line 1"),
    ({"member/comand-reply.fr.txt": "Subject: x\n", "member/comand-reply.en.txt": "Subject: x\n"},
     "overrides no template"),
    ({"sel/member/welcome.fr.txt": "Subject: x\n\nBienvenue\n"}, "welcome.en.txt is missing"),
    ({"member/goodbye.fr.txt": "Au revoir\n", "member/goodbye.en.txt": "Subject: Bye\n"},
     "first line must be 'Subject:"),
    ({"member/goodbye.fr.txt": 'Subject: x\n{% include "member/nope.fr.txt" %}\n',
      "member/goodbye.en.txt": "Subject: Bye\n"}, "includes member/nope.fr.txt"),
])
def test_check_refuses_a_broken_template_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str],
        complaint: str) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out")
    for name, text in files.items():
        (tmp_path / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / name).write_text(text)
    assert main(["-c", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert complaint in err and "Traceback" not in err
    assert str(tmp_path / "templates") in err or "is missing" in err


# --- watching it run ----------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"mailbot {importlib.metadata.version('mailbot')}\n"


async def test_one_log_line_per_handled_message(
        bot: Driver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mailbot.handling.dispatch")
    await bot.send(make_message(subject="Réunion", body="Jeudi 18h."))
    await bot.command("solde")
    lines = [r for r in caplog.records if r.name == "mailbot.handling.dispatch"]
    assert len(lines) == 2
    post, command = lines
    assert "to sel (post) from marie@example.com: post" in post.getMessage()
    assert post.getMessage().endswith(" ms)") and "distributed" in post.getMessage()
    assert "(request) from marie@example.com: command" in command.getMessage()
    as_json = json.loads(JsonFormatter().format(post))
    assert as_json["level"] == "INFO" and as_json["list"] == "sel"
    assert as_json["sender"] == "marie@example.com" and as_json["kind"] == "post"
    assert isinstance(as_json["ms"], float) and as_json["message"] == post.getMessage()


def test_log_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--log-format", "xml", "check"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("rules", ["[posting]\nfirst_post_moderated = true\n"])
async def test_status_shows_queues_holds_quarantine_daemons_and_digests(
        bot: Driver, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await bot.send(make_message(subject="Premier message", body="Bonjour"))  # held
    await bot.send(make_message(sender="bob@example.net", subject="x", body="y"),
                   mail_from="bob@example.net")  # held too
    await bot.service.db.run(lambda s: s.execute(
        update(InboundMessage).where(InboundMessage.mail_from == "bob@example.net")
        .values(status="quarantined")))
    await bot.service.db.run(daemons.register, bot.service.instance, bot.clock.now())
    await bot.service.tick()
    assert main(["-c", str(tmp_path / "config.toml"), "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("messages received: ") and "quarantined: 1" in out[0]
    assert out[1].startswith("deliveries: ") and "oldest undelivered" in out[1]
    assert out[2] == "held posts: sel: 2"
    assert out[3].startswith("quarantined: 1") and "replay ID" in out[3]
    assert out[4].split("\t")[2:] == ["sel", "bob@example.net"]
    assert out[5].startswith("daemon ") and "last timer round" in out[5]
    assert "never" not in out[5].split("last timer round")[1]
    assert out[6].startswith("sel@example.org: next digest daily ")


# --- secrets --------------------------------------------------------------------------------


def test_the_outbound_password_comes_from_a_file_or_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.txt").write_text("s3cret\n")
    path = write_config(tmp_path, "sqlite:///x.db", sink_port=2525,
                        outbound_extra='username = "sel"\npassword_file = "secret.txt"')
    assert load_config(path).outbound.password == "s3cret"
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "from-env")
    path = write_config(tmp_path, "sqlite:///x.db", sink_port=2525,
                        outbound_extra='password_env = "MAILBOT_SMTP_PASSWORD"')
    assert load_config(path).outbound.password == "from-env"
    path = write_config(tmp_path, "sqlite:///x.db", sink_port=2525,
                        outbound_extra='password = "a"\npassword_env = "MAILBOT_SMTP_PASSWORD"')
    with pytest.raises(ConfigError, match="at most one of password"):
        load_config(path)
    path = write_config(tmp_path, "sqlite:///x.db", sink_port=2525,
                        outbound_extra='password_file = "missing.txt"')
    with pytest.raises(ConfigError, match=r"outbound\.password_file"):
        load_config(path)


# --- running it as a service ----------------------------------------------------------------


def test_the_systemd_unit_runs_hardened_without_root() -> None:
    import configparser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(Path(__file__).parents[1] / "contrib" / "systemd" / "mailbot.service")
    service = unit["Service"]
    assert service["User"] not in ("", "root") and service["StateDirectory"] == "mailbot"
    assert service["ExecStart"].endswith("mailbot serve -c /etc/mailbot/config.toml")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""


def test_serve_refuses_to_start_with_a_broken_template(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out")
    (tmp_path / "templates" / "member").mkdir(parents=True)
    (tmp_path / "templates" / "member" / "welcome.fr.txt").write_text("Subject: {{ x }\n")
    (tmp_path / "templates" / "member" / "welcome.en.txt").write_text("Subject: x\n")
    assert main(["-c", str(path), "serve"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mailbot: ") and "welcome.fr.txt line 1" in err
    assert not (tmp_path / "x.db").exists()  # stopped before touching anything


def test_log_format_json_writes_one_json_object_a_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write_config(tmp_path, f"sqlite:///{tmp_path}/x.db", maildir=tmp_path / "out")
    done = subprocess.run(
        [sys.executable, "-m", "mailbot.cli", "--log-format", "json", "--log-level", "info",
         "-c", str(path), "db", "upgrade"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x["logger"].startswith("alembic") for x in lines)
