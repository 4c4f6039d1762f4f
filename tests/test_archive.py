"""The archive by mail, over real SMTP on SQLite and PostgreSQL: posts numbered per list,
`sommaire`/`index` lists them, `envoyer N`/`get N` sends one back attached, for members
only; `mailbot archive export` writes an mbox; List-Archive says how."""

import json
import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from mailbot.cli import main
from mailbot.config import Config
from mailbot.storage import db
from tests.e2e import Driver
from tests.helpers import make_message, write_config

POSTS = [("marie@example.com", "Marie", "Réunion de jeudi", "On se voit à 18h.\n"),
         ("bob@example.net", "Bob", "Vélo à donner", "Un vélo d'enfant, bleu.\n"),
         ("marie@example.com", "Marie", "Merci", "Merci à tous !\n")]


async def _post_all(bot: Driver) -> None:
    for sender, name, subject, body in POSTS:
        raw = make_message(sender=sender, name=name, subject=subject, body=body,
                           headers={"Received": "from secret.host.example by mx"})
        assert await bot.send(raw, mail_from=sender) == 250


def _attached(reply: EmailMessage) -> list[EmailMessage]:
    return [part.get_content() for part in reply.walk()
            if part.get_content_type() == "message/rfc822"]


async def test_index_lists_the_posts_by_number(bot: Driver) -> None:
    await _post_all(bot)
    copy = next(r for r in bot.sink.received if r.message["List-Id"])
    assert copy.message["List-Archive"] == "<mailto:sel-request@example.org?subject=index>"
    for word in ("sommaire", "index", "Je voudrais voir les anciens messages de la liste"):
        reply = await bot.command(word)
        body = reply.text()
        assert reply.message["Subject"].startswith("Les derniers messages de la liste")
        assert "n°1" in body and "Marie : Réunion de jeudi" in body
        assert "n°2" in body and "Bob : Vélo à donner" in body
        assert "n°3" in body and "envoyer 3" in body
        assert body.index("n°1") < body.index("n°2") < body.index("n°3")


async def test_index_in_english_for_an_english_member(bot: Driver) -> None:
    await _post_all(bot)
    await bot.command("language en", sender="bob@example.net", name="Bob")
    reply = await bot.command("index", sender="bob@example.net", name="Bob")
    assert "no. 2" in reply.text() and "Bob: Vélo à donner" in reply.text()
    assert 'get 3' in reply.text()


async def test_get_sends_the_post_back_attached(bot: Driver) -> None:
    await _post_all(bot)
    for words in ("envoyer 2", "get 2", "envoyer n° 2",
                  "Pourriez-vous me renvoyer le message numéro 2 ? Merci"):
        reply = await bot.command(words)
        [post] = _attached(reply.message)
        assert post["Subject"] == "Vélo à donner"
        assert post["From"] == "Bob <bob@example.net>"
        assert "vélo d'enfant" in post.get_content()
        assert post["Received"] is None  # the trace of its delivery to us stays here
        assert "message n°2" in reply.text() and "Bob" in reply.text()
        assert reply.message["Subject"].startswith("Message n°2 : Vélo à donner")


async def test_get_an_unknown_number_or_none(bot: Driver) -> None:
    await _post_all(bot)
    reply = await bot.command("envoyer 99")
    assert "pas de message n°99" in reply.text() and not _attached(reply.message)
    reply = await bot.command("get 7", sender="bob@example.net", name="Bob")
    assert "pas de message n°7" in reply.text()


async def test_the_archive_is_for_members_only(bot: Driver) -> None:
    await _post_all(bot)
    for words in ("sommaire", "envoyer 1"):
        reply = await bot.command(words, sender="paul@example.org", name="Paul")
        assert "réservées à ses membres" in reply.text()
        assert not _attached(reply.message) and "Réunion" not in reply.text()


async def test_an_empty_archive_says_so(bot: Driver) -> None:
    reply = await bot.command("sommaire")
    assert "les archives sont vides" in reply.text()


async def test_export_writes_an_mbox_in_order(bot: Driver, config: Config,
                                              tmp_path: Path) -> None:
    await _post_all(bot)
    out = tmp_path / "sel.mbox"
    assert main(["-c", str(config.path), "archive", "export", "--list", "sel",
                 "--out", str(out)]) == 0
    box = mailbox.mbox(out)
    parsed = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in box]
    subjects = [(m["X-Archive-Number"], m["Subject"]) for m in parsed]
    assert subjects == [("1", "Réunion de jeudi"), ("2", "Vélo à donner"), ("3", "Merci")]
    assert all(m["Received"] is None for m in box)
    assert box[0].get_from().startswith("marie@example.com ")
    box.close()
    assert main(["-c", str(config.path), "archive", "export", "--list", "nope"]) == 1


def test_the_migration_numbers_earlier_posts(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        command.upgrade(db._alembic_config(engine), "0006")
        with engine.begin() as conn:
            for key, when in (("b", "2026-01-02 00:00:00"), ("a", "2026-01-01 00:00:00")):
                conn.execute(text(
                    "INSERT INTO inbound_message (received_at, mail_from, rcpt, list_name,"
                    " role, message_key, raw, size, status, distributed_at) VALUES"
                    " (:when, 'm@x.org', 'sel@example.org', 'sel', 'post', :key, :raw, 3,"
                    " 'done', :when)"), {"when": when, "key": key, "raw": b"x"})
        db.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT message_key, archive_number FROM inbound_message"
                                     " ORDER BY archive_number")).all()
            counter = conn.execute(text("SELECT value FROM counter WHERE name = 'sel:post'"))
            assert counter.scalar() == 2
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 2)]
    finally:
        engine.dispose()


def test_explain_reports_the_archive_requests(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", sink_port=25)
    said = {"sommaire": {"action": "index", "args": []},
            "get 12": {"action": "get", "args": ["12"], "post": 12},
            "envoyer n° 4": {"action": "get", "args": ["n°", "4"], "post": 4},
            "Could you send me message 7 again please?": {"action": "get", "args": [],
                                                          "post": 7},
            "envoyer 60 points à Marie": None}
    for number, (words, expected) in enumerate(said.items()):
        path = tmp_path / f"m{number}.eml"
        path.write_bytes(make_message(to="sel-request@example.org", subject="", body=words))
        assert main(["-c", str(config), "explain", "--json", "--to",
                     "sel-request@example.org", str(path)]) == 0
        [request] = json.loads(capsys.readouterr().out)["requests"]
        if expected is None:
            assert request["action"] != "get"
        else:
            assert request == expected
