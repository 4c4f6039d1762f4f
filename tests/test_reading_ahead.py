"""Posts read ahead (handling/ahead.py): worker processes on SQLite each take a share of the
messages and read their next posts outside the one writer's turn; a turn uses a reading
only if the post is still the same, and reads the same requests out of it."""

import os
import threading
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from mailbot.config.addresses import resolve
from mailbot.handling import ahead as ahead_module
from mailbot.handling import post as post_handler
from mailbot.handling.ahead import PostsAhead
from mailbot.reading import ahead as posts_ahead
from mailbot.reading.ahead import PostAhead, parsed
from mailbot.reading.message import parse
from mailbot.reading.requests import Reading, Said, read_ahead, read_requests
from mailbot.reading.requests import resolve as resolve_module
from mailbot.service import READ_AHEAD_NICENESS, Service
from mailbot.storage import db
from mailbot.storage.messages import Messages
from tests.e2e import Driver
from tests.helpers import make_message
from tests.test_requests_reading import KNOWN
from tests.test_worker_claims import _stored

POSTS = [
    ("Atelier vélo", "Bonjour à tous,\n\nL'atelier vélo aura lieu samedi à 14 h.\n\nMarie"),
    ("Re: la réunion", "Merci de me désinscrire de la liste, je déménage.\n"),
    ("Cours de guitare", "Je propose des cours de guitare pour débutants, le mardi soir.\n"),
    ("Une idée", "Je propose que nous achetions une tondeuse pour le jardin partagé.\n"),
    ("Re: proposition 2", "+1, bonne idée\n"),
]


def _said(subject: str, body: str, role: str = "post") -> Said:
    return Said(subject, body, role, "marie.dubois@example.org", "Marie Dubois", None, "[sel] ")


@pytest.mark.parametrize(("subject", "body"), POSTS)
def test_a_post_read_ahead_gives_the_requests_its_turn_would_read(subject: str,
                                                                  body: str) -> None:
    said = _said(subject, body)
    ahead = read_ahead(said, KNOWN.points_per_hour, KNOWN.unit)
    assert ahead is not None
    assert read_requests(said, KNOWN, ahead) == read_requests(said, KNOWN)


def test_a_reading_of_what_the_post_no_longer_says_is_not_used() -> None:
    stale = read_ahead(_said("Bonjour", "Bonjour à tous"))
    assert stale is not None and not stale.drafts
    said = _said("Bonjour", "Merci de me désinscrire de la liste, je déménage.")
    found = read_requests(said, KNOWN, stale)
    assert found and found == read_requests(said, KNOWN)
    threaded = replace(_said("Re: proposition 2", "+1"), thread_proposal=2)
    assert read_requests(threaded, KNOWN, read_ahead(_said("Re: proposition 2", "+1"))) \
        == read_requests(threaded, KNOWN)  # the thread found since counts


def test_a_reading_for_other_units_is_not_used() -> None:
    said = _said("Merci", "J'ai payé 2 heures à Lucien pour le jardinage.")
    ahead = read_ahead(said, KNOWN.points_per_hour, KNOWN.unit)
    assert ahead is not None and ahead.drafts
    emptied = replace(ahead, drafts=())  # a reading that would find nothing, if used
    assert read_requests(said, KNOWN, emptied) == []  # used: the same post, the same units
    other = replace(KNOWN, points_per_hour=30)
    assert read_requests(said, other, emptied) == read_requests(said, other) != []


def test_a_message_parsed_ahead_is_used_for_the_same_bytes_only() -> None:
    raw = make_message(subject="Atelier", body="Samedi à 14 h.")
    ahead = PostAhead(raw, parse(raw), None)
    assert parsed(raw, ahead) is ahead.msg
    assert parsed(bytes(raw), ahead) is ahead.msg  # equal bytes, another object
    other = parsed(raw.replace(b"Atelier", b"Reunion"), ahead)
    assert other is not ahead.msg and other["Subject"] == "Reunion"
    assert parsed(raw, None)["Subject"] == "Atelier"


def test_what_was_read_of_messages_no_longer_new_is_dropped(config: Any) -> None:
    ahead = PostsAhead(config, (0, 1))
    raw = make_message()
    ahead.posts.update({n: PostAhead(raw, parse(raw), None) for n in (3, 5, 8)})
    ahead.forget_before(5)  # the oldest new message of the share: 3 was handled elsewhere
    assert sorted(ahead.posts) == [5, 8]


def test_the_writers_language_is_worked_out_only_for_what_a_post_asks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Most posts ask nothing: the language their requests would be answered in (the
    writer's small words counted over the whole text) is not worked out for them."""
    counted: list[str] = []
    language = resolve_module._language
    monkeypatch.setattr(resolve_module, "_language",
                        lambda prepared: counted.append(prepared.subject) or language(prepared))
    talk, asking = _said(*POSTS[0]), _said(*POSTS[1])
    assert read_requests(talk, KNOWN) == [] and read_ahead(talk).language == ""  # type: ignore[union-attr]
    assert counted == []
    found = read_requests(asking, KNOWN)
    assert found and found[0].language == "fr"
    assert read_ahead(asking).language == "fr"  # type: ignore[union-attr]
    assert counted == ["la réunion", "la réunion"]


def test_only_posts_are_read_ahead() -> None:
    assert read_ahead(_said("", "solde", role="request")) is None
    assert read_ahead(_said("", "oui", role="confirm")) is None


def test_a_share_claims_and_peeks_only_its_own_ids(database: db.Database) -> None:
    ids = _stored(database, 7)

    def look(session: Any) -> tuple[list[int], list[int], list[int]]:
        messages = Messages(session)
        return ([p.id for p in messages.peek_new(10, (0, 2))],
                [row[0] for row in messages.new_posts(ids[1], ids[-1], (1, 2), 10)],
                [r.id for r in messages.claim(ids[-1], 10, (1, 2))])

    peeked, posts, claimed = database.transaction(look)
    assert peeked == [i for i in ids if i % 2 == 0]
    assert posts == [i for i in ids if i % 2 == 1 and i > ids[1]]
    assert claimed == [i for i in ids if i % 2 == 1]


async def test_two_workers_sharing_the_posts_use_what_they_read_ahead(
        bot: Driver, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("shares are for SQLite's one writer (PostgreSQL's workers write at once)")
    first = bot.service
    second = Service(first.config, clock=bot.clock)
    try:
        await _share_the_posts(bot, first, second, monkeypatch)
    finally:
        second.close()


async def _share_the_posts(bot: Driver, first: Service, second: Service,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[bool] = []

    def noting(said: Said, known: Any, ahead: Reading | None = None) -> Any:
        used.append(ahead is not None and ahead.said == said)
        return read_requests(said, known, ahead)

    monkeypatch.setattr(post_handler, "read_requests", noting)
    priorities: set[int] = set()
    reading = PostsAhead.read

    def noting_priority(self: PostsAhead, *args: Any) -> int:
        priorities.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return reading(self, *args)

    monkeypatch.setattr(PostsAhead, "read", noting_priority)
    parsed_in_turns: list[bytes] = []

    def noting_parse(raw: bytes) -> Any:
        parsed_in_turns.append(raw)
        return parse(raw)

    monkeypatch.setattr(posts_ahead, "parse", noting_parse)
    first.take_share(0, 2)
    second.take_share(1, 2)
    await bot.add("marie.dubois@example.org", "Marie Dubois")
    recipient = resolve("sel@example.org", first.config.lists, "-")
    assert recipient is not None
    for subject, body in POSTS * 2:
        await first.accept(make_message(sender="marie.dubois@example.org", subject=subject,
                                        body=body), "marie.dubois@example.org",
                           [("sel@example.org", recipient)])
    handled = [await second.process_pending()]
    with first.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM inbound_message")).all()
    assert {r.status for r in rows if r.id % 2 == 1} == {"done"}  # its share, all of it
    assert {r.status for r in rows if r.id % 2 == 0} == {"new"}  # the other's, untouched
    handled += [await first.process_pending(), await second.process_pending()]
    with first.db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, role, status, outcome FROM inbound_message ORDER BY id")).all()
    posts = [r for r in rows if r.role == "post"]
    assert [r.status for r in rows] == ["done"] * len(rows)
    assert sum(handled) == len(rows) == len(POSTS) * 2 + 2  # two passed on to sel-request
    assert [r.outcome for r in posts].count("passed on to the request address") == 2
    assert used == [True] * len(posts)  # every post read ahead, none read again
    assert len(parsed_in_turns) == 2  # nor parsed again: only the two passed on, not posts
    # read at a lower priority than the rest (the 250s and the writer's turns go first)
    assert priorities == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + READ_AHEAD_NICENESS)}


async def test_a_post_handled_some_other_way_leaves_nothing_read_behind(
        bot: Driver, database_url: str) -> None:
    """Read ahead, then handled by someone else (here: marked done by hand): the turn that
    claims the share's next messages drops what was read of it."""
    if not database_url.startswith("sqlite"):
        pytest.skip("shares are for SQLite's one writer")
    service = bot.service
    service.take_share(0, 1)
    await _three_posts(bot, service)
    assert await service._read_ahead(10**9) == 3
    with service.db.engine.begin() as conn:
        conn.execute(text("UPDATE inbound_message SET status = 'done' WHERE id = "
                          "(SELECT min(id) FROM inbound_message)"))
    assert await service.process_pending() == 2
    assert service._ahead is not None and service._ahead.posts == {}


async def _three_posts(bot: Driver, service: Service) -> None:
    await bot.add("marie.dubois@example.org", "Marie Dubois")
    recipient = resolve("sel@example.org", service.config.lists, "-")
    assert recipient is not None
    for subject, body in (POSTS[0], POSTS[2], POSTS[3]):  # none passed on to sel-request
        await service.accept(make_message(sender="marie.dubois@example.org", subject=subject,
                                          body=body), "marie.dubois@example.org",
                             [("sel@example.org", recipient)])


def _outcomes(service: Service) -> list[tuple[str, str]]:
    with service.db.engine.connect() as conn:
        return [(r.status, r.outcome) for r in conn.execute(
            text("SELECT status, outcome FROM inbound_message ORDER BY id"))]


async def test_a_post_that_cannot_be_read_ahead_is_read_in_its_turn(
        bot: Driver, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("shares are for SQLite's one writer")
    service = bot.service
    service.take_share(0, 1)
    await _three_posts(bot, service)
    reading = ahead_module.read_ahead

    def failing(said: Said, *args: Any) -> Any:
        if said.subject == POSTS[2][0]:
            raise ValueError("unreadable")
        return reading(said, *args)

    monkeypatch.setattr(ahead_module, "read_ahead", failing)
    assert await service._read_ahead(10**9) == 2  # the other two
    assert await service.process_pending() == 3
    assert [status for status, _ in _outcomes(service)] == ["done"] * 3
    assert "offer n°1 recorded" in _outcomes(service)[1][1]  # read, in its turn


async def test_reading_ahead_that_fails_is_said_once_and_the_turns_read_the_posts(
        bot: Driver, database_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("shares are for SQLite's one writer")
    service = bot.service
    service.take_share(0, 1)
    await _three_posts(bot, service)

    def broken(self: PostsAhead, *args: Any) -> int:
        raise OSError("disk I/O error")

    monkeypatch.setattr(PostsAhead, "read", broken)
    with caplog.at_level("DEBUG", logger="mailbot.service"):
        assert await service._read_ahead(10**9) == 0
        assert await service.process_pending() == 3
    said = [r for r in caplog.records if "reading ahead failed" in r.getMessage()]
    assert [r.levelname for r in said][:1] == ["WARNING"] and len(said) >= 2
    assert all(r.levelname == "DEBUG" for r in said[1:])
    assert "OSError: disk I/O error" in said[0].getMessage()
    assert [status for status, _ in _outcomes(service)] == ["done"] * 3
