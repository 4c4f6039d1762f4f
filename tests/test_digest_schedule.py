"""When digests leave (now → next), and who must get a proposal outside their digest."""

from datetime import UTC, datetime, timedelta

import pytest

from mailbot.config.rules import Digest
from mailbot.digests.schedule import (
    DigestPost,
    arrange_threads,
    digest_text,
    needs_proposal_copy,
    next_digest_at,
    previous_digest_at,
    topic,
)

PARIS = "Europe/Paris"
U = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731


@pytest.mark.parametrize(("mode", "digest", "now", "expected"), [
    # daily at 18:00 Paris = 17:00 UTC in winter, 16:00 UTC in summer
    ("daily", Digest("18:00"), U(2026, 11, 23, 12, 0), U(2026, 11, 23, 17, 0)),
    ("daily", Digest("18:00"), U(2026, 11, 23, 17, 0), U(2026, 11, 24, 17, 0)),  # strictly after
    ("daily", Digest("18:00"), U(2026, 7, 1, 16, 30), U(2026, 7, 2, 16, 0)),
    ("daily", Digest("00:00"), U(2026, 11, 23, 23, 30), U(2026, 11, 24, 23, 0)),
    # across the spring change (29 March 2026): the wall-clock time stays 18:00
    ("daily", Digest("18:00"), U(2026, 3, 28, 18, 0), U(2026, 3, 29, 16, 0)),
    # across the autumn change (25 October 2026)
    ("daily", Digest("18:00"), U(2026, 10, 24, 17, 0), U(2026, 10, 25, 17, 0)),
    # a local time that does not exist on the spring day (02:30) still leaves once
    ("daily", Digest("02:30"), U(2026, 3, 28, 12, 0), U(2026, 3, 29, 1, 30)),
    # weekly on Sunday: Monday 23 November → Sunday 29 November
    ("weekly", Digest("18:00", "sunday"), U(2026, 11, 23, 12, 0), U(2026, 11, 29, 17, 0)),
    ("weekly", Digest("18:00", "sunday"), U(2026, 11, 29, 17, 0), U(2026, 12, 6, 17, 0)),
    ("weekly", Digest("09:00", "monday"), U(2026, 11, 23, 7, 59), U(2026, 11, 23, 8, 0)),
    ("each", Digest(), U(2026, 11, 23), None),
    ("off", Digest(), U(2026, 11, 23), None),
])
def test_next_digest_at(mode: str, digest: Digest, now: datetime,
                        expected: datetime | None) -> None:
    assert next_digest_at(mode, digest, PARIS, now) == expected


DEADLINE = U(2026, 11, 26, 12, 0)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(("mode", "next_digest", "expected"), [
    ("daily", U(2026, 11, 23, 17, 0), False),  # the digest leaves long before the cut-off
    ("daily", U(2026, 11, 25, 12, 0), False),  # exactly at deadline − reminder_before
    ("daily", U(2026, 11, 25, 12, 1), True),   # a minute too late
    ("weekly", U(2026, 11, 29, 17, 0), True),
    ("each", None, False),  # gets every post anyway
    ("off", None, False),
])
def test_who_needs_the_proposal_outside_their_digest(mode: str, next_digest: datetime | None,
                                                     expected: bool) -> None:
    assert needs_proposal_copy(mode, next_digest, DEADLINE, DAY) is expected


@pytest.mark.parametrize(("mode", "digest", "now", "expected"), [
    ("daily", Digest("18:00"), U(2026, 11, 23, 12, 0), U(2026, 11, 22, 17, 0)),
    ("daily", Digest("18:00"), U(2026, 11, 23, 17, 0), U(2026, 11, 23, 17, 0)),  # at it
    ("daily", Digest("18:00"), U(2026, 11, 26, 9, 0), U(2026, 11, 25, 17, 0)),  # once only
    ("daily", Digest("18:00"), U(2026, 3, 29, 16, 30), U(2026, 3, 29, 16, 0)),  # summer time
    ("weekly", Digest("18:00", "sunday"), U(2026, 11, 25, 12, 0), U(2026, 11, 22, 17, 0)),
    ("each", Digest(), U(2026, 11, 23), None),
])
def test_previous_digest_at(mode: str, digest: Digest, now: datetime,
                            expected: datetime | None) -> None:
    assert previous_digest_at(mode, digest, PARIS, now) == expected


def post(mid: str, root: str, subject: str, minute: int, text: str = "x") -> DigestPost:
    return DigestPost(mid, root, subject, "Marie", U(2026, 11, 23, 12, minute), text)


def test_threads_group_by_references_then_topic_in_order() -> None:
    posts = [post("<c>", "<a>", "Réunion", 3), post("<a>", "<a>", "Réunion", 1),
             post("<b>", "<b>", "Parapluie", 2),
             post("<d>", "<d>", "réunion", 4)]  # References lost by a client: same topic
    threads = arrange_threads(posts)
    assert [t.subject for t in threads] == ["Réunion", "Parapluie"]
    assert [p.message_id for p in threads[0].posts] == ["<a>", "<c>", "<d>"]


@pytest.mark.parametrize(("subject", "expected"), [
    ("[sel] Re: Réunion", "Réunion"), ("Re: [sel] RE : Réunion", "Réunion"),
    ("Fwd: [sel] Info", "Info"), ("[sel]", "(sans objet / no subject)"),
])
def test_topic(subject: str, expected: str) -> None:
    assert topic(subject, "[sel]") == expected


def test_digest_text_trims_quotes_signatures_and_length() -> None:
    text = "Oui.\n\nLe lun. Marie a écrit :\n> long quote\n"
    assert digest_text(text) == "Oui."
    long = "\n".join(f"ligne {i}" for i in range(100))
    trimmed = digest_text(long).splitlines()
    assert len(trimmed) == 61 and trimmed[-1] == "[…]"
