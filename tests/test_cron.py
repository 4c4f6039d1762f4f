"""Schedules as cron expressions (APScheduler's CronTrigger as a pure reader): tables of
(now → next) across daylight-saving changes and month ends, the digests and reminders
they time, bad expressions as config errors, and digests and reminders leaving at their
cron time over SMTP, on SQLite and PostgreSQL, with the FakeClock."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailbot.cli import main
from mailbot.config import load_config
from mailbot.config.rules import Digest
from mailbot.core.cron import check_cron, crontab_weekdays, next_fire, previous_fire
from mailbot.core.errors import ConfigError
from mailbot.decisions.lifecycle import reminder_at
from mailbot.digests.schedule import next_digest_at, previous_digest_at
from mailbot.storage.stores import Stores
from mailbot.timers import due
from tests.e2e import Driver
from tests.helpers import Received, make_message, write_config
from tests.test_proposals import announcements, propose

PARIS, NEW_YORK = "Europe/Paris", "America/New_York"
U = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
MON_THU = "0 18 * * mon,thu"
FIRST = "0 9 1 * *"


@pytest.mark.parametrize(("expression", "zone", "now", "expected"), [
    # 18:00 on Mondays and Thursdays, Paris (UTC+1 in winter): Monday 23 November 2026
    (MON_THU, PARIS, U(2026, 11, 23, 12, 0), U(2026, 11, 23, 17, 0)),
    (MON_THU, PARIS, U(2026, 11, 23, 17, 0), U(2026, 11, 26, 17, 0)),  # strictly after
    (MON_THU, PARIS, U(2026, 11, 26, 17, 0), U(2026, 11, 30, 17, 0)),
    # across the spring change (Sunday 29 March 2026): Monday 30 March is UTC+2
    (MON_THU, PARIS, U(2026, 3, 26, 17, 0), U(2026, 3, 30, 16, 0)),
    # across the autumn change (Sunday 25 October 2026): Monday 26 October is UTC+1
    (MON_THU, PARIS, U(2026, 10, 22, 16, 0), U(2026, 10, 26, 17, 0)),
    # a time that does not exist on the spring day (02:30) leaves an hour later, once
    ("30 2 * * *", PARIS, U(2026, 3, 28, 12, 0), U(2026, 3, 29, 1, 30)),
    ("30 2 * * *", PARIS, U(2026, 3, 29, 1, 30), U(2026, 3, 30, 0, 30)),
    # a time that happens twice on the autumn day leaves at the first one only
    ("30 2 * * *", PARIS, U(2026, 10, 24, 12, 0), U(2026, 10, 25, 0, 30)),
    ("30 2 * * *", PARIS, U(2026, 10, 25, 0, 30), U(2026, 10, 26, 1, 30)),
    # New York changes on other days (8 March, 1 November 2026)
    ("0 18 * * *", NEW_YORK, U(2026, 3, 7, 23, 0), U(2026, 3, 8, 22, 0)),
    ("0 18 * * *", NEW_YORK, U(2026, 10, 31, 22, 0), U(2026, 11, 1, 23, 0)),
    # the first of the month, across month and year ends
    (FIRST, PARIS, U(2026, 1, 31, 12, 0), U(2026, 2, 1, 8, 0)),
    (FIRST, PARIS, U(2026, 2, 28, 12, 0), U(2026, 3, 1, 8, 0)),
    (FIRST, PARIS, U(2026, 3, 31, 12, 0), U(2026, 4, 1, 7, 0)),  # summer time by then
    (FIRST, PARIS, U(2026, 12, 15, 0, 0), U(2027, 1, 1, 8, 0)),
    (FIRST, PARIS, U(2026, 11, 1, 8, 0), U(2026, 12, 1, 8, 0)),
    # the 31st skips the months that have none; 29 February waits for a leap year
    ("0 9 31 * *", PARIS, U(2026, 3, 31, 8, 0), U(2026, 5, 31, 7, 0)),
    ("0 9 29 2 *", PARIS, U(2026, 3, 1, 0, 0), U(2028, 2, 29, 8, 0)),
    # the last days of a month, at midnight local time (the day before in UTC)
    ("0 0 28-31 2 *", PARIS, U(2026, 2, 27, 12, 0), U(2026, 2, 27, 23, 0)),
    # weekday numbers as crontab reads them: 1 is Monday, 0 and 7 are Sunday
    ("0 18 * * 1", PARIS, U(2026, 11, 24, 12, 0), U(2026, 11, 30, 17, 0)),
    ("0 18 * * 0", PARIS, U(2026, 11, 23, 12, 0), U(2026, 11, 29, 17, 0)),
    ("0 18 * * 7", PARIS, U(2026, 11, 23, 12, 0), U(2026, 11, 29, 17, 0)),
    ("0 18 * * 1-5", PARIS, U(2026, 11, 27, 17, 0), U(2026, 11, 30, 17, 0)),
])
def test_next_fire(expression: str, zone: str, now: datetime, expected: datetime) -> None:
    assert next_fire(expression, zone, now) == expected


@pytest.mark.parametrize(("expression", "now", "expected"), [
    (MON_THU, U(2026, 11, 25, 12, 0), U(2026, 11, 23, 17, 0)),
    (MON_THU, U(2026, 11, 23, 17, 0), U(2026, 11, 23, 17, 0)),  # at it
    (MON_THU, U(2026, 3, 31, 12, 0), U(2026, 3, 30, 16, 0)),  # summer time
    (FIRST, U(2026, 3, 28, 17, 0), U(2026, 3, 1, 8, 0)),
    (FIRST, U(2027, 1, 1, 7, 59), U(2026, 12, 1, 8, 0)),
    ("0 9 29 2 *", U(2026, 3, 28, 17, 0), U(2024, 2, 29, 8, 0)),  # years back
    ("30 2 * * *", U(2026, 10, 25, 2, 0), U(2026, 10, 25, 0, 30)),  # first 02:30 only
])
def test_previous_fire(expression: str, now: datetime, expected: datetime) -> None:
    assert previous_fire(expression, PARIS, now) == expected


@pytest.mark.parametrize(("field", "names"), [
    ("*", "*"), ("mon,thu", "mon,thu"), ("1", "mon"), ("0", "sun"), ("7", "sun"),
    ("1-5", "mon,tue,wed,thu,fri"), ("*/2", "sun,tue,thu,sat"), ("6,0", "sat,sun"),
])
def test_crontab_weekdays(field: str, names: str) -> None:
    assert crontab_weekdays(field) == names


@pytest.mark.parametrize(("expression", "problem"), [
    ("0 18 * *", "five fields"), ("0 18 * * * *", "five fields"), ("", "five fields"),
    ("61 18 * * *", "maximum value"), ("0 25 * * *", "maximum value"),
    ("0 18 * * moon", "moon"), ("0 18 * * 8", "0 (Sunday) to 7"), ("0 18 32 * *", "32"),
    ("every monday", "five fields"),
])
def test_bad_expressions_say_what_is_wrong(expression: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_cron(expression)


@pytest.mark.parametrize(("mode", "digest", "now", "expected"), [
    ("daily", Digest(cron=MON_THU), U(2026, 11, 24, 12, 0), U(2026, 11, 26, 17, 0)),
    ("daily", Digest(cron=MON_THU), U(2026, 3, 28, 12, 0), U(2026, 3, 30, 16, 0)),
    ("weekly", Digest(cron=MON_THU), U(2026, 11, 23, 12, 0), U(2026, 11, 29, 17, 0)),
    ("weekly", Digest(weekly_cron=FIRST), U(2026, 11, 23, 12, 0), U(2026, 12, 1, 8, 0)),
    ("daily", Digest(weekly_cron=FIRST), U(2026, 11, 23, 12, 0), U(2026, 11, 23, 17, 0)),
    ("each", Digest(cron=MON_THU), U(2026, 11, 23), None),
])
def test_digests_leave_at_their_cron_times(mode: str, digest: Digest, now: datetime,
                                           expected: datetime | None) -> None:
    assert next_digest_at(mode, digest, PARIS, now) == expected


def test_a_digest_missed_while_down_is_caught_up_once() -> None:
    digest = Digest(cron=MON_THU)
    # down from Monday to Saturday: the one moment to catch up is Thursday's
    assert previous_digest_at("daily", digest, PARIS, U(2026, 11, 28, 9, 0)) \
        == U(2026, 11, 26, 17, 0)


DEADLINE = U(2026, 11, 26, 12, 0)  # Thursday 13:00 in Paris


@pytest.mark.parametrize(("cron", "before", "expected"), [
    ("", timedelta(hours=24), U(2026, 11, 25, 12, 0)),
    ("0 9 * * *", timedelta(hours=24), U(2026, 11, 26, 8, 0)),  # 9:00 on the last morning
    ("0 12 * * *", timedelta(hours=24), U(2026, 11, 26, 11, 0)),
    ("0 13 * * *", timedelta(hours=24), U(2026, 11, 25, 12, 0)),  # at the window's start
    ("0 14 * * *", timedelta(hours=24), U(2026, 11, 25, 13, 0)),
    ("0 9 * * mon", timedelta(hours=24), U(2026, 11, 25, 12, 0)),  # none in the window
    ("0 9 * * *", timedelta(hours=2), U(2026, 11, 26, 10, 0)),
])
def test_reminder_at(cron: str, before: timedelta, expected: datetime) -> None:
    assert reminder_at(DEADLINE, before, cron, PARIS) == expected


@pytest.mark.parametrize(("rules", "key", "problem"), [
    ('[digest]\ncron = "0 18 * *"\n', "digest.cron", "five fields"),
    ('[digest]\nweekly_cron = "0 9 1 * someday"\n', "digest.weekly_cron", "someday"),
    ('[consent]\nreminder_cron = "0 99 * * *"\n', "consent.reminder_cron", "maximum"),
])
def test_a_bad_cron_is_a_config_error_naming_file_and_key(
        tmp_path: Path, rules: str, key: str, problem: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/m.db", sink_port=25, rules=rules)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(tmp_path / "rules" / "sel.toml")
    assert caught.value.key == key and "not a cron expression" in caught.value.problem
    assert problem in caught.value.problem
    assert main(["-c", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"sel.toml: {key}: not a cron expression" in err


# --- end to end: FakeClock, the real listener, the SMTP sink ----------------------------------

READER, WEEKLY = "chloe@example.fr", "dan@example.fr"


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob"), (READER, "Chloé"),
            (WEEKLY, "Dan")]


@pytest.fixture
def rules() -> str:
    return f'[digest]\ncron = "{MON_THU}"\nweekly_cron = "{FIRST}"\n' \
           '[consent]\nreminder_cron = "0 9 * * *"\n'


def digests_to(bot: Driver, rcpt: str) -> list[Received]:
    return [r for r in bot.sink.to(rcpt) if str(r.message["Subject"]).startswith("Résumé")]


async def next_due(bot: Driver) -> datetime | None:
    now = bot.clock.now()
    moment: datetime | None = await bot.service.db.run(
        lambda s: due.next_due(Stores.of(s), bot.service.config, now))
    return moment


async def at(bot: Driver, moment: datetime) -> None:
    bot.clock.advance(moment - bot.clock.now())
    await bot.service.drain()


async def test_digests_leave_at_their_cron_times_over_smtp(bot: Driver) -> None:
    # Monday 23 November 2026, 13:00 in Paris (the FakeClock's start)
    await bot.command("résumé quotidien", sender=READER, name="Chloé")
    await bot.command("résumé hebdomadaire", sender=WEEKLY, name="Dan")
    await bot.send(make_message(subject="Potager", body="Qui veut des courgettes ?\n"))
    assert await next_due(bot) == U(2026, 11, 23, 17, 0)  # Monday 18:00 in Paris
    await at(bot, U(2026, 11, 23, 16, 59))
    assert digests_to(bot, READER) == []
    await at(bot, U(2026, 11, 23, 17, 0))
    [monday] = digests_to(bot, READER)
    assert "Qui veut des courgettes" in monday.text() and digests_to(bot, WEEKLY) == []

    bot.sink.clear()
    bot.clock.advance(timedelta(minutes=1))
    await bot.send(make_message(subject="Vélo", body="Un vélo à prêter.\n"))
    assert await next_due(bot) == U(2026, 11, 26, 17, 0)  # Thursday, not Tuesday
    await at(bot, U(2026, 11, 25, 17, 0))  # Wednesday 18:00: the old daily time
    assert digests_to(bot, READER) == []
    await at(bot, U(2026, 11, 26, 17, 0))
    [thursday] = digests_to(bot, READER)
    assert "Un vélo à prêter" in thursday.text() and "courgettes" not in thursday.text()

    # the weekly reader: not on Sunday (the old weekday), on the first of the month
    await at(bot, U(2026, 11, 29, 17, 0))
    assert digests_to(bot, WEEKLY) == []
    await at(bot, U(2026, 12, 1, 7, 59))
    assert digests_to(bot, WEEKLY) == []
    await at(bot, U(2026, 12, 1, 8, 0))
    [month] = digests_to(bot, WEEKLY)
    assert "courgettes" in month.text() and "vélo à prêter" in month.text()


async def test_the_reminder_leaves_at_the_cron_time_in_its_window(bot: Driver) -> None:
    await propose(bot)  # Monday 12:00 UTC: the deadline is Thursday 26, 12:00 UTC
    bot.sink.clear()
    await at(bot, U(2026, 11, 25, 12, 30))  # inside the 24 h window, before 9:00 comes
    assert announcements(bot) == []
    assert await next_due(bot) == U(2026, 11, 26, 8, 0)
    await at(bot, U(2026, 11, 26, 7, 59))
    assert announcements(bot) == []
    await at(bot, U(2026, 11, 26, 8, 0))  # 9:00 in Paris
    [reminder] = announcements(bot)
    assert "Rappel" in reminder.message["Subject"]
