"""The `mailbot` verbs, called in-process through `mailbot.cli.main` (what the console
script runs): their output, their exit codes, and what they change in the database.

Verbs that run an event loop of their own (`inject`, `quarantine replay`) are called in a
thread, so that the SMTP sink keeps serving in the test's loop meanwhile.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from mailbot.cli import main
from mailbot.config import load_config
from mailbot.service import Service
from mailbot.storage import db
from tests.helpers import Sink, make_message, write_config

MEMBERS = [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
           ("chloe@example.fr", "Chloé")]

Run = tuple[int, str, str]


def mailbot(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Run:
    """`mailbot -c CONFIG ARGS…`: (exit code, stdout, stderr)."""
    code = main(["-c", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


async def mailbot_in_thread(capsys: pytest.CaptureFixture[str], config: Path,
                            *args: str) -> Run:
    code = await asyncio.wait_for(asyncio.to_thread(main, ["-c", str(config), *args]), 30)
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    code, out, err = mailbot(capsys, config, *args)
    assert (code, err) == (0, ""), f"mailbot {' '.join(args)} exited {code}: {err}"
    return out


def failure(run: Run) -> str:
    """A verb that failed: exit 1, exactly one line on stderr (returned), nothing else."""
    code, out, err = run
    assert code == 1, f"exited {code}: {out}{err}"
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("mailbot: "), err
    return err.strip()


def fails(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    return failure(mailbot(capsys, config, *args))


@pytest.fixture
def maildir_config(tmp_path: Path, database_url: str) -> Path:
    """A config delivering to a Maildir, on a fresh (not yet upgraded) database."""
    return write_config(tmp_path, database_url, maildir=tmp_path / "outbox")


@pytest.fixture
def cfg(maildir_config: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The same, with the schema in place."""
    ok(capsys, maildir_config, "db", "upgrade")
    return maildir_config


@pytest.fixture
def smtp_cfg(tmp_path: Path, database_url: str, sink: Sink,
             capsys: pytest.CaptureFixture[str]) -> Path:
    """A config delivering to the SMTP sink, upgraded, with three members."""
    config = write_config(tmp_path, database_url, sink_port=sink.port)
    ok(capsys, config, "db", "upgrade")
    for email, name in MEMBERS:
        assert ok(capsys, config, "members", "add", "--list", "sel", email, name) \
            == f"{email}: added\n"
    return config


def roster(capsys: pytest.CaptureFixture[str], config: Path) -> list[tuple[str, str]]:
    out = ok(capsys, config, "members", "list", "--list", "sel")
    return [(line.split("\t")[0], line.split("\t")[1]) for line in out.splitlines()]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- check, db upgrade -------------------------------------------------------------------

def test_check_on_a_good_config_prints_ok(capsys: pytest.CaptureFixture[str],
                                          cfg: Path) -> None:
    out = ok(capsys, cfg, "check")
    templates, verdict = out.splitlines()
    assert templates.startswith("templates: ") and " in use, from " in templates
    assert int(templates.split()[1]) >= 30 and "yours" not in templates
    assert verdict.startswith(f"{cfg}: OK")
    assert "sel@example.org" in verdict


def test_db_upgrade_on_a_fresh_database_then_check_says_up_to_date(
        capsys: pytest.CaptureFixture[str], maildir_config: Path) -> None:
    assert "database needs `mailbot db upgrade`" in ok(capsys, maildir_config, "check")
    # an older schema: the verbs that need the database refuse, and say what to do
    from alembic import command

    from mailbot.config import load_config
    from mailbot.storage import db

    database = db.Database(load_config(maildir_config).server.database_url)
    try:
        command.upgrade(db._alembic_config(database.engine), "0001")
    finally:
        database.close()
    assert "mailbot db upgrade" in fails(capsys, maildir_config, "members", "list",
                                         "--list", "sel")
    first = ok(capsys, maildir_config, "db", "upgrade")
    assert first.startswith("database schema at ") and "(was 0001)" in first
    assert "database up to date" in ok(capsys, maildir_config, "check")
    again = ok(capsys, maildir_config, "db", "upgrade")  # idempotent, says nothing changed
    assert again.startswith("database schema at ") and "was" not in again
    assert ok(capsys, maildir_config, "members", "list", "--list", "sel") == ""


@pytest.mark.parametrize(("rules", "key"), [
    ('[posting]\nwho = "everyone"\n', "posting.who"),
    ('[posting]\nwhom = "members"\n', "posting.whom"),
    ('[consent]\nperiod = "soon"\n', "consent.period"),
    ("[posting]\nmax_kb = \"big\"\n", "posting.max_kb"),
])
def test_check_names_the_rules_file_and_the_bad_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, rules: str, key: str) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                          maildir=tmp_path / "outbox", rules=rules)
    line = fails(capsys, config, "check")
    assert str(tmp_path / "rules" / "sel.toml") in line
    assert f": {key}: " in line


def test_check_with_a_missing_config_file_fails(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    line = fails(capsys, missing, "check")
    assert str(missing) in line and "not found" in line


def test_check_names_a_bad_config_key(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                          maildir=tmp_path / "outbox")
    config.write_text(config.read_text().replace('separator = "-"', 'separator = "_"'))
    line = fails(capsys, config, "check")
    assert str(config) in line and "server.separator" in line


# --- members -----------------------------------------------------------------------------

def test_members_add_list_remove(capsys: pytest.CaptureFixture[str], cfg: Path) -> None:
    assert ok(capsys, cfg, "members", "add", "--list", "sel", "Marie@Example.COM",
              "Marie Dupré") == "Marie@Example.COM: added\n"
    assert ok(capsys, cfg, "members", "add", "--list", "sel", "bob@example.net") \
        == "bob@example.net: added\n"
    assert ok(capsys, cfg, "members", "add", "--list", "sel", "marie@example.com") \
        == "marie@example.com: already a member\n"
    out = ok(capsys, cfg, "members", "list", "--list", "sel")
    assert out == "bob@example.net\t\teach\nmarie@example.com\tMarie Dupré\teach\n"

    assert ok(capsys, cfg, "members", "remove", "--list", "sel", "MARIE@example.com") \
        == "MARIE@example.com: removed\n"
    assert roster(capsys, cfg) == [("bob@example.net", "")]
    line = fails(capsys, cfg, "members", "remove", "--list", "sel", "marie@example.com")
    assert "marie@example.com" in line and "not a member" in line
    assert roster(capsys, cfg) == [("bob@example.net", "")]


def test_members_add_refuses_what_is_not_an_address(capsys: pytest.CaptureFixture[str],
                                                    cfg: Path) -> None:
    for bad in ("marie", "marie@", "@example.com", "marie at example.com"):
        line = fails(capsys, cfg, "members", "add", "--list", "sel", bad)
        assert repr(bad) in line and "not an address" in line
    assert roster(capsys, cfg) == []


@pytest.mark.parametrize("header", ["email,name\n", "Email, Nom\n", ""])
def test_members_import_with_and_without_a_header_row(
        capsys: pytest.CaptureFixture[str], cfg: Path, tmp_path: Path, header: str) -> None:
    csv = write(tmp_path / "members.csv", header + "marie@example.com,Marie Dupré\n"
                "\n"
                "Bob@Example.NET, Bob \n"
                "chloe@example.fr\n")
    assert ok(capsys, cfg, "members", "import", "--list", "sel", str(csv)) \
        == "3 added, 0 already there\n"
    assert roster(capsys, cfg) == [("bob@example.net", "Bob"), ("chloe@example.fr", ""),
                                   ("marie@example.com", "Marie Dupré")]
    # importing again adds nobody twice
    assert ok(capsys, cfg, "members", "import", "--list", "sel", str(csv)) \
        == "0 added, 3 already there\n"


def test_members_import_reads_a_spreadsheet_export_with_a_bom(
        capsys: pytest.CaptureFixture[str], cfg: Path, tmp_path: Path) -> None:
    csv = tmp_path / "export.csv"
    csv.write_bytes("email,name\r\nmarie@example.com,Marie\r\n".encode("utf-8-sig"))
    assert ok(capsys, cfg, "members", "import", "--list", "sel", str(csv)) \
        == "1 added, 0 already there\n"
    assert roster(capsys, cfg) == [("marie@example.com", "Marie")]


def test_members_import_with_a_bad_row_names_file_and_line_and_adds_nobody(
        capsys: pytest.CaptureFixture[str], cfg: Path, tmp_path: Path) -> None:
    csv = write(tmp_path / "members.csv", "email,name\nmarie@example.com,Marie\n"
                                          "bob(at)example.net,Bob\nchloe@example.fr,Chloé\n"
                                          ",Sans adresse\nMARIE@example.com,Marie bis\n")
    code, out, err = mailbot(capsys, cfg, "members", "import", "--list", "sel", str(csv))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"mailbot: {csv}:3: ") and "bob(at)example.net" in lines[0]
    assert lines[1] == f"{csv}:5: no email address on this line"
    assert lines[2] == f"{csv}:6: marie@example.com is already on line 2"
    assert lines[3].startswith("nothing imported: correct these 3 line(s)")
    assert len(lines) == 4
    assert roster(capsys, cfg) == []  # all or nothing


@pytest.mark.parametrize(("data", "expected"), [
    # Excel in France: semicolons, Windows-1252, a header with first and last names
    ("Nom;Prénom;Courriel\r\nDupré;Marie;marie@example.com\r\nLefèvre;Jean;jean@example.net\r\n"
     .encode("cp1252"),
     [("jean@example.net", "Jean Lefèvre"), ("marie@example.com", "Marie Dupré")]),
    # LibreOffice: UTF-8 with a BOM, commas, a quoted name holding a comma
    ("\ufeffe-mail,name\n\"marie@example.com\",\"Dupré, Marie\"\n".encode(),
     [("marie@example.com", "Dupré, Marie")]),
    # no header, the address in the second column, semicolons, UTF-8 without BOM
    ("Marie Dupré;marie@example.com\nJean;jean@example.net\n".encode(),
     [("jean@example.net", "Jean"), ("marie@example.com", "Marie Dupré")]),
])
def test_members_import_reads_what_spreadsheets_write(
        capsys: pytest.CaptureFixture[str], cfg: Path, tmp_path: Path, data: bytes,
        expected: list[tuple[str, str]]) -> None:
    csv = tmp_path / "export.csv"
    csv.write_bytes(data)
    assert ok(capsys, cfg, "members", "import", "--list", "sel", str(csv)) \
        == f"{len(expected)} added, 0 already there\n"
    assert roster(capsys, cfg) == expected


def test_members_import_of_a_missing_file_fails(capsys: pytest.CaptureFixture[str],
                                                cfg: Path, tmp_path: Path) -> None:
    line = fails(capsys, cfg, "members", "import", "--list", "sel", str(tmp_path / "no.csv"))
    assert "no.csv" in line


@pytest.mark.parametrize("verb", [["list"], ["add", "x@example.org"],
                                  ["remove", "x@example.org"], ["import", "x.csv"]])
def test_members_of_an_unknown_list_fails_clearly(capsys: pytest.CaptureFixture[str],
                                                  cfg: Path, verb: list[str]) -> None:
    line = fails(capsys, cfg, "members", verb[0], "--list", "nope", *verb[1:])
    assert "no list named 'nope'" in line and str(cfg) in line


async def test_members_import_invite_queues_one_invitation_each_and_adds_nobody_yet(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str,
        sink: Sink) -> None:
    config = write_config(tmp_path, database_url, sink_port=sink.port)
    ok(capsys, config, "db", "upgrade")
    ok(capsys, config, "members", "add", "--list", "sel", "marie@example.com", "Marie")
    csv = write(tmp_path / "new.csv", "email,name\nbob@example.net,Bob\n"
                                      "chloe@example.fr,Chloé\nmarie@example.com,Marie\n")
    out = ok(capsys, config, "members", "import", "--list", "sel", "--invite", str(csv))
    assert out == "2 invited, 1 already there\n"  # no invitation for a member
    assert roster(capsys, config) == [("marie@example.com", "Marie")]

    queued = ok(capsys, config, "queue").splitlines()
    assert queued[0] == "queued: 2"
    rows = [line.split("\t") for line in queued[1:]]
    assert sorted((row[1], row[2], row[3]) for row in rows) == [
        ("queued", "notice", "bob@example.net"), ("queued", "notice", "chloe@example.fr")]

    # the invitations go out; replying to one (and only that) makes a member
    service = Service(load_config(config))
    try:
        await service.drain()
    finally:
        service.close()
    assert sorted(r.rcpt_tos[0] for r in sink.received) == ["bob@example.net",
                                                            "chloe@example.fr"]
    invitation = sink.to("bob@example.net")[0].message
    confirm = str(invitation["Reply-To"])
    assert confirm.startswith("sel-confirm+") and confirm.endswith("@example.org")
    reply = write(tmp_path / "reply.eml", make_message(
        sender="bob@example.net", name="Bob", to=confirm,
        subject="Re: " + str(invitation["Subject"]), body="oui\n").decode())
    code, out, err = await mailbot_in_thread(capsys, config, "inject", str(reply))
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{reply}: stored for sel-confirm+")
    assert roster(capsys, config) == [("bob@example.net", "Bob"),
                                      ("marie@example.com", "Marie")]


# --- inject ------------------------------------------------------------------------------

async def test_inject_a_members_post_delivers_it_to_every_member(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    post = tmp_path / "post.eml"
    post.write_bytes(make_message(subject="Réunion jeudi", message_id="<inj-1@example.com>"))
    code, out, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, ""), err
    assert out == f"{post}: stored for sel@example.org\n"
    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(m for m, _ in MEMBERS)
    for copy in sink.received:
        assert copy.message["Subject"] == "[sel] Réunion jeudi"
        assert copy.message["Message-ID"] == "<inj-1@example.com>"
    assert ok(capsys, smtp_cfg, "queue").splitlines() == ["sent: 3"]

    # the same file again is the same message: processed once
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, "")
    assert len(sink.received) == 3


async def test_inject_a_saved_bounce_keeps_its_null_return_path(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    """A saved message's Return-Path is its envelope sender: <> is a bounce, never a post."""
    saved = tmp_path / "bounce.eml"
    saved.write_bytes(b"Return-Path: <>\r\n" + make_message(
        sender="marie@example.com", subject="Undelivered", message_id="<b-1@example.com>"))
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(saved))
    assert (code, err) == (0, ""), err
    assert sink.received == []


async def test_inject_with_to_overrides_the_headers(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    bcc = tmp_path / "bcc.eml"
    bcc.write_bytes(make_message(to="friends@example.com", message_id="<bcc@example.com>"))
    line = failure(await mailbot_in_thread(capsys, smtp_cfg, "inject", str(bcc)))
    assert str(bcc) in line and "no list address in To/Cc" in line and "--to" in line
    assert sink.received == []

    code, out, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", "--to",
                                             "sel@example.org", str(bcc))
    assert (code, err) == (0, ""), err
    assert out == f"{bcc}: stored for sel@example.org\n"
    assert len(sink.received) == len(MEMBERS)


def test_inject_a_file_for_no_list_fails_clearly(capsys: pytest.CaptureFixture[str],
                                                 cfg: Path, tmp_path: Path) -> None:
    stray = tmp_path / "stray.eml"
    stray.write_bytes(make_message(to="someone@example.org, other@example.com"))
    line = fails(capsys, cfg, "inject", str(stray))
    assert line == (f"mailbot: {stray}: no list address in To/Cc; say which with --to")
    line = fails(capsys, cfg, "inject", "--to", "nobody@example.org", str(stray))
    assert "no list address" in line
    assert ok(capsys, cfg, "queue") == "the queue is empty\n"


def test_inject_a_missing_file_fails(capsys: pytest.CaptureFixture[str], cfg: Path,
                                     tmp_path: Path) -> None:
    line = fails(capsys, cfg, "inject", str(tmp_path / "gone.eml"))
    assert "gone.eml" in line


# --- queue ---------------------------------------------------------------------------------

async def test_queue_shows_counts_and_retry_makes_deliveries_due_now(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    assert ok(capsys, smtp_cfg, "queue") == "the queue is empty\n"
    sink.refuse_with = "451 4.3.0 try later"
    post = tmp_path / "post.eml"
    post.write_bytes(make_message(message_id="<retry@example.com>"))
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, ""), err
    assert sink.refusals == len(MEMBERS) and sink.received == []

    lines = ok(capsys, smtp_cfg, "queue").splitlines()
    assert lines[0] == "queued: 3"
    assert sorted(line.split("\t")[3] for line in lines[1:]) == sorted(m for m, _ in MEMBERS)
    for line in lines[1:]:
        fields = line.split("\t")
        assert fields[1:3] == ["queued", "post"]
        assert fields[4] == "attempts=1"
        assert fields[6].startswith("451")

    sink.refuse_with = None
    service = Service(load_config(smtp_cfg))
    try:
        await service.drain()  # nothing is due yet: the retry is a minute away
        assert sink.received == []
        assert ok(capsys, smtp_cfg, "queue", "retry") == "3 deliveries due now\n"
        await service.drain()
    finally:
        service.close()
    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(m for m, _ in MEMBERS)
    assert ok(capsys, smtp_cfg, "queue") == "sent: 3\n"
    assert ok(capsys, smtp_cfg, "queue", "retry") == "0 deliveries due now\n"


async def test_queue_shows_permanent_failures(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    sink.refuse_with = "550 5.1.1 no such user"
    post = tmp_path / "post.eml"
    post.write_bytes(make_message(message_id="<perm@example.com>"))
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, ""), err
    lines = ok(capsys, smtp_cfg, "queue").splitlines()
    assert lines[0] == "failed: 3"
    assert all("550 5.1.1 no such user" in line for line in lines[1:]) and len(lines) == 4


async def test_queue_shows_a_message_the_smarthost_refused_as_a_whole(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    sink.refuse_content = (b"casino", "554 5.7.1 Spam detected")
    post = tmp_path / "post.eml"
    post.write_bytes(make_message(message_id="<spam@example.com>", body="casino gratuit\n"))
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, ""), err
    lines = ok(capsys, smtp_cfg, "queue").splitlines()
    assert "refused: 3" in lines[0]
    refused = [line.split("\t") for line in lines[1:] if "\trefused\t" in line]
    assert len(refused) == 3 and all(f[2] == "post" and "554 5.7.1 Spam detected" in f[6]
                                     for f in refused)


# --- quarantine ----------------------------------------------------------------------------

def test_quarantine_on_a_clean_database(capsys: pytest.CaptureFixture[str],
                                        cfg: Path) -> None:
    assert ok(capsys, cfg, "quarantine") == "nothing in quarantine\n"
    assert fails(capsys, cfg, "quarantine", "replay", "999") \
        == "mailbot: no stored message 999"
    assert fails(capsys, cfg, "quarantine", "show", "999") == "mailbot: no stored message 999"
    assert "quarantine replay ID" in fails(capsys, cfg, "quarantine", "replay")


async def test_quarantine_show_and_replay_a_stored_message(
        capsys: pytest.CaptureFixture[str], smtp_cfg: Path, tmp_path: Path,
        sink: Sink) -> None:
    post = tmp_path / "post.eml"
    post.write_bytes(make_message(subject="Vente de miel", message_id="<q-1@example.com>"))
    code, _, err = await mailbot_in_thread(capsys, smtp_cfg, "inject", str(post))
    assert (code, err) == (0, ""), err
    assert len(sink.received) == 3
    shown = ok(capsys, smtp_cfg, "quarantine", "show", "1")
    assert "Subject: Vente de miel" in shown and "--- done: distributed to 3 members" in shown

    code, out, err = await mailbot_in_thread(capsys, smtp_cfg, "quarantine", "replay", "1")
    assert (code, out, err) == (0, "message 1 handled again\n", "")
    assert len(sink.received) == 6  # handled again from the start, as asked


# --- errors common to every verb -----------------------------------------------------------

def test_a_database_that_cannot_be_reached_is_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none",
                          maildir=tmp_path / "outbox")
    line = fails(capsys, config, "members", "list", "--list", "sel")
    assert "OperationalError" in line


def test_members_import_without_header_refuses_a_first_line_that_is_no_address(
        capsys: pytest.CaptureFixture[str], cfg: Path, tmp_path: Path) -> None:
    csv = write(tmp_path / "members.csv", "bob.example.org,Bob\nmarie@example.com,Marie\n")
    assert main(["-c", str(cfg), "members", "import", "--list", "sel", str(csv)]) == 1
    assert f"{csv}:1" in capsys.readouterr().err


def test_config_option_works_before_and_after_the_verb(
        capsys: pytest.CaptureFixture[str], cfg: Path) -> None:
    assert main(["check", "-c", str(cfg)]) == 0
    assert main(["members", "list", "-c", str(cfg), "--list", "sel"]) == 0
    assert main(["-c", str(cfg), "check"]) == 0
    capsys.readouterr()
    assert main(["check"]) == 1  # the default ./config.toml does not exist here
    assert "config.toml" in capsys.readouterr().err


def test_members_add_on_a_brand_new_database_creates_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'new' / 'fresh.db'}",
                          maildir=tmp_path / "out")
    assert main(["members", "add", "--list", "sel", "marie@example.com", "-c", str(config)]) == 0
    assert "added" in capsys.readouterr().out


async def test_digest_send_sends_what_is_new_then_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str,
        sink: Sink) -> None:
    config = write_config(tmp_path, database_url, sink_port=sink.port)
    for email in ("marie@example.com", "chloe@example.fr"):
        assert main(["-c", str(config), "members", "add", "--list", "sel", email]) == 0
    from mailbot.config import load_config
    from mailbot.storage import db
    from mailbot.storage.models import Member

    database = db.Database(load_config(config).server.database_url)
    try:
        def to_daily(session: Session) -> None:
            session.execute(update(Member).where(Member.email == "chloe@example.fr").values(
                delivery="daily", digest_through=datetime.now(UTC) - timedelta(minutes=1)))
        database.transaction(to_daily)
    finally:
        database.close()
    message = write(tmp_path / "post.eml", make_message(subject="Nouvelles").decode())
    assert await asyncio.to_thread(main, ["-c", str(config), "inject", str(message)]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["-c", str(config), "digest", "send"]) == 0
    assert "1 digest(s) sent" in capsys.readouterr().out
    got = sink.to("chloe@example.fr")
    assert len(got) == 1 and "Résumé du jour" in str(got[0].message["Subject"])
    assert await asyncio.to_thread(main, ["-c", str(config), "digest", "send"]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert len(sink.to("chloe@example.fr")) == 1


def test_ledger_balances_statement_csv_and_a_correction(
        capsys: pytest.CaptureFixture[str], cfg: Path) -> None:
    from tests.helpers import transfer

    for email in ("marie@example.com", "bob@example.net"):
        ok(capsys, cfg, "members", "add", "--list", "sel", email)
    config = load_config(cfg)
    database = db.Database(config.server.database_url)
    try:
        refusal = database.transaction(lambda s: transfer(
            s, config.lists[0], "marie@example.com", "bob@example.net", 90, "pain",
            datetime.now(UTC), recorded_by="marie@example.com"))
        assert refusal is None
    finally:
        database.close()
    balances = ok(capsys, cfg, "ledger", "--list", "sel")
    assert "marie@example.com\t-90 points\t-1h30" in balances
    assert "bob@example.net\t90 points\t1h30" in balances
    statement = ok(capsys, cfg, "ledger", "statement", "--list", "sel", "--member",
                   "bob@example.net")
    assert "+90 points\t1h30\tmarie@example.com\tpain" in statement
    assert "needs --entry ID and --by MODERATOR" in fails(
        capsys, cfg, "ledger", "reverse", "--list", "sel", "--entry", "1", "--by",
        "marie@example.com")
    assert "reverses entry 1" in ok(capsys, cfg, "ledger", "reverse", "--list", "sel",
                                    "--entry", "1", "--by", "alice@example.org")
    assert "already corrected" in fails(capsys, cfg, "ledger", "reverse", "--list", "sel",
                                         "--entry", "1", "--by", "alice@example.org")
    rows = ok(capsys, cfg, "ledger", "csv", "--list", "sel").splitlines()
    assert rows[0].startswith("id,created_at,payer,payee,amount,unit,memo,reverses")
    assert len(rows) == 3 and rows[2].split(",")[7] == "1"  # the correction names entry 1
    assert "bob@example.net\t0 points\t0h" in ok(capsys, cfg, "ledger", "--list", "sel")
