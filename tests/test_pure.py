"""Fast, exact tests of the pure modules: subject prefix, durations, retry delays, addresses,
automatic-mail detection, readable text, posting decisions, the list copy, rules and config."""

import dataclasses
import re
import textwrap
import tomllib
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailbot.config import Config, ListConfig, load_config
from mailbot.config.addresses import address_for, resolve
from mailbot.config.rules import ListRules, Posting, convert_value, load_rules
from mailbot.core.durations import parse_duration
from mailbot.core.errors import ConfigError
from mailbot.core.retry import next_attempt, should_give_up
from mailbot.pipeline.authorize import Verdict, decide_post
from mailbot.pipeline.decorate import ListHeaders, PostHeaders, build_list_copy, split_raw
from mailbot.reading.message import automatic_kind, parse, readable_text
from mailbot.reading.subjects import build_subject
from tests.helpers import ROOT, make_message, write_config

# ---------------------------------------------------------------------------------------------
# Subject prefix


@pytest.mark.parametrize(("subject", "expected"), [
    ("Hello", "[sel] Hello"),
    ("Re: [sel] Re: [sel] Hello", "[sel] Re: Hello"),
    ("RE : [sel] TR: hello", "[sel] Re: hello"),
    ("Fwd: x", "[sel] Fwd: x"),
    ("AW: Réf. : [sel] réunion", "[sel] Re: réunion"),
    ("", "[sel]"),
    ("[sel]", "[sel]"),
    ("[sel] Hello", "[sel] Hello"),
    ("[sel] [sel] Hello", "[sel] Hello"),
    ("[sel]Hello", "[sel] Hello"),
    ("Re:[sel]hi", "[sel] Re: hi"),
    ("Re: Re: Re: hi", "[sel] Re: hi"),
    ("re : x", "[sel] Re: x"),
    ("Re[2]: x", "[sel] Re: x"),
    ("SV: x", "[sel] Re: x"),
    ("Antw: x", "[sel] Re: x"),
    ("RÉF. : x", "[sel] Re: x"),
    ("TR: x", "[sel] Fwd: x"),
    ("Fw: x", "[sel] Fwd: x"),
    ("WG: x", "[sel] Fwd: x"),
    ("Fwd : x", "[sel] Fwd: x"),
    ("Fw: Re: x", "[sel] Re: x"),
    ("Re: Fwd: x", "[sel] Re: x"),
    ("[sel] Re: [sel] Re: x", "[sel] Re: x"),
    ("Re: [sel] [PROPOSITION] Tente", "[sel] Re: [PROPOSITION] Tente"),
    ("  spaced   out  ", "[sel] spaced out"),
    ("hi [sel] there", "[sel] hi there"),
    ("[other] hi", "[sel] [other] hi"),
    ("Reunion", "[sel] Reunion"),
    ("Regarding x", "[sel] Regarding x"),
    ("Trip to Paris", "[sel] Trip to Paris"),
    ("Re:", "[sel] Re:"),
])
def test_build_subject(subject: str, expected: str) -> None:
    assert build_subject(subject, "[sel]") == expected


def test_build_subject_with_another_prefix() -> None:
    assert build_subject("Re: [SEL-Paris] Re: Marché", "[SEL-Paris]") == "[SEL-Paris] Re: Marché"


def test_build_subject_strips_a_trailing_prefix() -> None:
    assert build_subject("Re: Réunion [sel]", "[sel]") == "[sel] Re: Réunion"


MARKERS = ["Re:", "RE :", "re:", "Fwd:", "TR:", "AW:", "Réf. :", "Re[2]:", "Fw:", "SV:", "[sel]"]
WORDS = ["hello", "réunion", "[PROPOSITION]", "[other]", "Re", "sel", "jeudi 18h"]


@settings(max_examples=400, deadline=None)
@given(st.text())
@example("Re: [sel] Re: [sel] Hello")
@example(" Re:")
def test_build_subject_is_idempotent(subject: str) -> None:
    once = build_subject(subject, "[sel]")
    assert build_subject(once, "[sel]") == once
    assert once.startswith("[sel]")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(MARKERS), max_size=8),
       st.lists(st.sampled_from(WORDS), max_size=5))
@example(["Re:", "[sel]", "Re:", "[sel]"], ["Hello"])
def test_build_subject_on_reply_chains(markers: list[str], words: list[str]) -> None:
    """Markers and prefixes piled up by replies, then the topic: one prefix, one marker."""
    once = build_subject(" ".join(markers + words), "[sel]")
    assert build_subject(once, "[sel]") == once
    assert once.count("[sel]") == 1
    assert once.startswith("[sel]")
    assert once.removeprefix("[sel]").strip().removeprefix("Re:").removeprefix("Fwd:").strip() \
        == " ".join(" ".join(words).split())
    replied = any(m not in ("Fwd:", "TR:", "Fw:", "[sel]") for m in markers)
    forwarded = any(m in ("Fwd:", "TR:", "Fw:") for m in markers)
    marker = "Re: " if replied else ("Fwd: " if forwarded else "")
    assert once == f"[sel] {marker}{' '.join(words)}".rstrip()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(MARKERS + WORDS), max_size=8))
@example(["Re:", "réunion", "[sel]"])
@example(["hello", "[sel]", "[sel]", "Re:"])
def test_build_subject_prefix_anywhere(pieces: list[str]) -> None:
    once = build_subject(" ".join(pieces), "[sel]")
    assert once.count("[sel]") == 1
    assert build_subject(once, "[sel]") == once


# ---------------------------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(("text", "expected"), [
    ("30s", timedelta(seconds=30)),
    ("90m", timedelta(minutes=90)),
    ("45min", timedelta(minutes=45)),
    ("72h", timedelta(hours=72)),
    ("3d", timedelta(days=3)),
    ("10j", timedelta(days=10)),
    ("2w", timedelta(weeks=2)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d12h", timedelta(days=1, hours=12)),
    (" 3D ", timedelta(days=3)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "3", "abc", "0s", "0h0m", "-1d", "1.5h", "3x", "d3",
                                  "1h30", "h", "3 days", "1h-30m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


# ---------------------------------------------------------------------------------------------
# Retry delays

NOW = datetime(2025, 11, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "minutes"), [
    (0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (8, 60), (9, 60),
    (20, 60), (41, 60),
])
def test_next_attempt_doubles_up_to_an_hour(attempts: int, minutes: int) -> None:
    assert next_attempt(attempts, NOW) == NOW + timedelta(minutes=minutes)


@pytest.mark.parametrize("attempts", [42, 100, 130, 10**6])
def test_next_attempt_after_many_hourly_retries(attempts: int) -> None:
    """Hourly retries for days (give_up_after defaults to 5d) stay an hour apart."""
    assert next_attempt(attempts, NOW) == NOW + timedelta(hours=1)


@pytest.mark.parametrize(("age", "give_up_after", "expected"), [
    (timedelta(0), timedelta(days=5), False),
    (timedelta(days=4, hours=23, minutes=59), timedelta(days=5), False),
    (timedelta(days=5), timedelta(days=5), True),
    (timedelta(days=6), timedelta(days=5), True),
    (timedelta(minutes=30), timedelta(hours=1), False),
    (timedelta(minutes=61), timedelta(hours=1), True),
])
def test_should_give_up(age: timedelta, give_up_after: timedelta, expected: bool) -> None:
    assert should_give_up(NOW - age, NOW, give_up_after) is expected


# ---------------------------------------------------------------------------------------------
# Addresses

EXTRA_LISTS = """
    [[list]]
    name = "sel-paris"
    domain = "example.org"
    moderators = ["bob@example.org"]

    [[list]]
    name = "autre"
    domain = "example.net"
    """


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> tuple[ListConfig, ...]:
    tmp = tmp_path_factory.mktemp("addresses")
    config = load_config(write_config(tmp, "sqlite:///x.db", maildir=tmp / "out",
                                      extra_list=EXTRA_LISTS))
    assert [m.name for m in config.lists] == ["sel", "sel-paris", "autre"]
    return config.lists


@pytest.mark.parametrize(("address", "expected"), [
    ("sel@example.org", ("sel", "post", None)),
    ("sel-request@example.org", ("sel", "request", None)),
    ("sel-owner@example.org", ("sel", "owner", None)),
    ("sel-bounces@example.org", ("sel", "bounces", None)),
    ("sel-bounces+3f2a9c@example.org", ("sel", "bounces", "3f2a9c")),
    ("sel-confirm+3f2a9c@example.org", ("sel", "confirm", "3f2a9c")),
    ("sel-confirm+3F2A9C@example.org", ("sel", "confirm", "3f2a9c")),
    ("SEL-Request@Example.ORG", ("sel", "request", None)),
    ("<sel@example.org>", ("sel", "post", None)),
    (" sel-owner@example.org ", ("sel", "owner", None)),
    ("sel-paris@example.org", ("sel-paris", "post", None)),
    ("sel-paris-request@example.org", ("sel-paris", "request", None)),
    ("sel-paris-owner@example.org", ("sel-paris", "owner", None)),
    ("sel-paris-confirm+abc@example.org", ("sel-paris", "confirm", "abc")),
    ("autre@example.net", ("autre", "post", None)),
    ("sel-foo@example.org", None),
    ("other@example.org", None),
    ("sel-confirm@example.org", None),
    ("sel-confirm+@example.org", None),
    ("sel-request+x@example.org", None),
    ("sel+request@example.org", None),
    ("sel_request@example.org", None),
    ("sel-paris-foo@example.org", None),
    ("sel@example.net", None),
    ("autre@example.org", None),
    ("sel@example.org.evil", None),
    ("sel@sub.example.org", None),
    ("@example.org", None),
    ("sel", None),
    ("", None),
])
def test_resolve_with_dash(lists: tuple[ListConfig, ...], address: str,
                           expected: tuple[str, str, str | None] | None) -> None:
    found = resolve(address, lists, "-")
    assert (found and (found.mlist.name, found.role, found.token)) == expected


@pytest.mark.parametrize(("address", "expected"), [
    ("sel@example.org", ("sel", "post", None)),
    ("sel+request@example.org", ("sel", "request", None)),
    ("sel+owner@example.org", ("sel", "owner", None)),
    ("sel+bounces@example.org", ("sel", "bounces", None)),
    ("sel+bounces+tok1@example.org", ("sel", "bounces", "tok1")),
    ("sel+confirm+TOK@example.org", ("sel", "confirm", "tok")),
    ("sel+confirm-TOK@example.org", ("sel", "confirm", "tok")),  # what we write with "+"
    ("sel+bounces-tok1@example.org", ("sel", "bounces", "tok1")),
    ("sel+request-x@example.org", None),
    ("sel-paris+request@example.org", ("sel-paris", "request", None)),
    ("sel-request@example.org", None),
    ("sel+confirm@example.org", None),
    ("sel+foo@example.org", None),
    ("sel+paris-request@example.org", None),
])
def test_resolve_with_plus(tmp_path: Path, address: str,
                           expected: tuple[str, str, str | None] | None) -> None:
    config = load_config(write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                                      separator="+", extra_list=EXTRA_LISTS))
    assert config.server.separator == "+"
    found = resolve(address, config.lists, config.server.separator)
    assert (found and (found.mlist.name, found.role, found.token)) == expected


@pytest.mark.parametrize(("separator", "role", "token", "expected"), [
    ("-", "post", None, "sel@example.org"),
    ("-", "request", None, "sel-request@example.org"),
    ("-", "owner", None, "sel-owner@example.org"),
    ("-", "bounces", None, "sel-bounces@example.org"),
    ("-", "bounces", "abc123", "sel-bounces+abc123@example.org"),
    ("-", "confirm", "abc123", "sel-confirm+abc123@example.org"),
    ("+", "request", None, "sel+request@example.org"),
    ("+", "confirm", "abc123", "sel+confirm-abc123@example.org"),
])
def test_address_for_and_back(lists: tuple[ListConfig, ...], separator: str, role: str,
                              token: str | None, expected: str) -> None:
    address = address_for(lists[0], separator, role, token)
    assert address == expected
    found = resolve(address, lists, separator)
    assert found is not None
    assert (found.mlist.name, found.role, found.token) == ("sel", role, token)


def test_address_for_a_list_with_a_dash_resolves_to_it(lists: tuple[ListConfig, ...]) -> None:
    paris = lists[1]
    for role in ("post", "request", "owner", "bounces"):
        found = resolve(address_for(paris, "-", role), lists, "-")
        assert found is not None
        assert (found.mlist.name, found.role) == ("sel-paris", role)


# ---------------------------------------------------------------------------------------------
# Automatic mail

LIST_ID = "sel.example.org"


def kind(*, headers: dict[str, str] | None = None, subject: str = "Bonjour",
         envelope: str = "marie@example.com", sender: str = "marie@example.com") -> str | None:
    msg = parse(make_message(sender=sender, subject=subject, headers=headers))
    return automatic_kind(msg, envelope, LIST_ID)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Auto-Submitted": "auto-replied"}, "auto-reply"),
    ({"Auto-Submitted": "auto-generated"}, "auto-reply"),
    ({"Auto-Submitted": "no"}, None),
    ({"Auto-Submitted": "No"}, None),
    ({"X-Autoreply": "yes"}, "auto-reply"),
    ({"X-Autorespond": "yes"}, "auto-reply"),
    ({"Precedence": "bulk"}, "bulk"),
    ({"Precedence": "Bulk"}, "bulk"),
    ({"Precedence": "list"}, "bulk"),
    ({"Precedence": "auto_reply"}, "auto-reply"),
    ({"X-Precedence": "bulk"}, "bulk"),
    ({"Precedence": "first-class"}, None),
    ({"List-Id": "SEL de Saint-Martin <sel.example.org>"}, "loop"),
    ({"List-Id": "SEL <sel.example.org>", "Precedence": "list"}, "loop"),
    ({"X-Loop": "sel.example.org"}, "loop"),
    ({"List-Id": "Other <other.example.net>"}, "bulk"),
    ({"List-Unsubscribe": "<mailto:news-request@example.net>"}, "bulk"),
])
def test_automatic_kind_headers(headers: dict[str, str], expected: str | None) -> None:
    assert kind(headers=headers) == expected


def test_precedence_junk_is_automatic() -> None:
    assert kind(headers={"Precedence": "junk"}) in ("bulk", "auto-reply")


def test_auto_submitted_no_with_a_comment_is_human() -> None:
    assert kind(headers={"Auto-Submitted": "no (sent by a person)"}) is None


@pytest.mark.parametrize(("envelope", "expected"), [
    ("", "bounce"),
    ("<>", "bounce"),
    ("MAILER-DAEMON@mx.example.net", "bounce"),
    ("marie@example.com", None),
])
def test_automatic_kind_envelope(envelope: str, expected: str | None) -> None:
    assert kind(envelope=envelope) == expected


@pytest.mark.parametrize(("sender", "expected"), [
    ("mailer-daemon@mx.example.net", "bounce"),
    ("noreply@example.net", "auto-reply"),
    ("no-reply@example.net", "auto-reply"),
])
def test_automatic_kind_daemon_senders(sender: str, expected: str) -> None:
    assert kind(sender=sender, envelope=sender) == expected


def test_multipart_report_is_a_bounce() -> None:
    raw = (b"From: Mail Delivery System <postmaster@mx.example.net>\r\n"
           b"To: sel-bounces+abc@example.org\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\n"
           b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
           b"Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           b"--b--\r\n")
    assert automatic_kind(parse(raw), "bob@example.net", LIST_ID) == "bounce"


@pytest.mark.parametrize(("subject", "expected"), [
    ("Out of Office", "auto-reply"),
    ("Out of office: Marie Dupont", "auto-reply"),
    ("Réponse automatique : Bonjour", "auto-reply"),
    ("Reponse automatique : Réunion", "auto-reply"),
    ("Absence du bureau", "auto-reply"),
    ("Automatic reply: hi", "auto-reply"),
    ("Auto: hi", "auto-reply"),
    ("Bonjour", None),
    ("Re: [sel] Réunion de jeudi", None),
    ("Re: Out of Office plans", None),
    ("[PROPOSITION] Acheter une tente", None),
])
def test_automatic_kind_subjects(subject: str, expected: str | None) -> None:
    assert kind(subject=subject) == expected


@pytest.mark.parametrize("subject", [
    "Absence à la réunion de jeudi",
    "Absence de Marie samedi",
    "Vacation photos from the trip",
])
def test_human_subjects_about_absence_are_not_auto_replies(subject: str) -> None:
    assert kind(subject=subject) is None


def test_an_ordinary_message_is_human() -> None:
    raw = make_message(subject="Re: [sel] Réunion", body="Je viens.\n",
                       headers={"In-Reply-To": "<a@example.com>"})
    assert automatic_kind(parse(raw), "marie@example.com", LIST_ID) is None


# ---------------------------------------------------------------------------------------------
# Readable text


def test_windows_1252_body() -> None:
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=windows-1252\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n"
           b"Caf\xe9 \x80 d\xe9j\xe0 \x93ok\x94\r\n")
    assert readable_text(parse(raw)) == "Café € déjà “ok”\r\n"


def test_quoted_printable_latin1_body() -> None:
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\nD=E9sinscription\r\n")
    assert readable_text(parse(raw)) == "Désinscription\r\n"


@pytest.mark.parametrize(("body", "expected"), [
    (b"Caf\xc3\xa9 ok\r\n", "Café ok\r\n"),  # really UTF-8
    (b"Caf\xe9 ok\r\n", "Café ok\r\n"),  # really windows-1252
    (b"plain ascii\r\n", "plain ascii\r\n"),
])
def test_unknown_charset_falls_back(body: bytes, expected: str) -> None:
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=x-unknown\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)
    assert readable_text(parse(raw)) == expected


def test_bytes_undecodable_everywhere_still_give_text() -> None:
    raw = (b"From: a@example.com\r\nContent-Type: text/plain; charset=x-unknown\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\njoin \x81\x8d\r\n")
    assert readable_text(parse(raw)).startswith("join ")


def test_html_only_message_gives_its_own_text_without_the_gmail_quote() -> None:
    html = ('<html><head><style>p{color:red}</style></head><body>'
            '<div dir="ltr">Je viens&nbsp;samedi.<br>Marie</div><br>'
            '<div class="gmail_quote"><div class="gmail_attr">Le lun. 3 nov. 2025, '
            'Bob a écrit&nbsp;:<br></div><blockquote class="gmail_quote">Qui vient ?'
            '</blockquote></div></body></html>')
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + html.encode())
    assert readable_text(parse(raw)) == "Je viens samedi.\nMarie"


@pytest.mark.parametrize("order", ["html-first", "plain-first"])
def test_multipart_alternative_prefers_text_plain(order: str) -> None:
    html = b"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML version</p>\r\n"
    plain = b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n"
    parts = html + plain if order == "html-first" else plain + html
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/alternative; boundary="XX"\r\n\r\n' + parts + b"--XX--\r\n")
    assert readable_text(parse(raw)).strip() == "Plain version"


def test_empty_text_plain_falls_back_to_html() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("   \n")
    msg.add_alternative("<p>Only <b>here</b></p>", subtype="html")
    assert readable_text(parse(msg.as_bytes())) == "Only here"


def test_attachments_are_not_the_text() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg.set_content("body text\n")
    msg.add_attachment("attached text\n", filename="a.txt")
    assert readable_text(parse(msg.as_bytes())) == "body text\n"


def test_multipart_without_its_boundary_still_gives_the_text() -> None:
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="nope"\r\n\r\njoin\r\n')
    assert "join" in readable_text(parse(raw))


# ---------------------------------------------------------------------------------------------
# Who may post

ACCEPT = Verdict("accept")
HOLD_NOT_MEMBER = Verdict("hold", "not-member")
HOLD_MODERATORS = Verdict("hold", "moderators-only")
HOLD_FIRST = Verdict("hold", "first-post")
STANDING = {"member": (True, False), "non-member": (False, False), "moderator": (False, True),
            "member-moderator": (True, True)}

# (who, standing, first_post_moderated) → verdict for a first post of a small message
POST_TABLE = [
    ("members", "member", False, ACCEPT),
    ("members", "member", True, HOLD_FIRST),
    ("members", "non-member", False, HOLD_NOT_MEMBER),
    ("members", "non-member", True, HOLD_NOT_MEMBER),
    ("members", "moderator", False, ACCEPT),
    ("members", "moderator", True, ACCEPT),
    ("members", "member-moderator", True, ACCEPT),
    ("moderators", "member", False, HOLD_MODERATORS),
    ("moderators", "member", True, HOLD_MODERATORS),
    ("moderators", "non-member", False, HOLD_MODERATORS),
    ("moderators", "non-member", True, HOLD_MODERATORS),
    ("moderators", "moderator", False, ACCEPT),
    ("moderators", "moderator", True, ACCEPT),
    ("anyone", "member", False, ACCEPT),
    ("anyone", "member", True, HOLD_FIRST),
    ("anyone", "non-member", False, ACCEPT),
    ("anyone", "non-member", True, ACCEPT),
    ("anyone", "moderator", False, ACCEPT),
    ("anyone", "moderator", True, ACCEPT),
]


@pytest.mark.parametrize(("who", "standing", "first_post_moderated", "expected"), POST_TABLE)
def test_decide_post(who: str, standing: str, first_post_moderated: bool,
                     expected: Verdict) -> None:
    is_member, is_moderator = STANDING[standing]
    rules = Posting(who=who, first_post_moderated=first_post_moderated, max_kb=100)
    verdict = decide_post(rules, is_member=is_member, is_moderator=is_moderator, post_count=0,
                          size=2000, automatic=False)
    assert verdict == expected


@pytest.mark.parametrize("who", ["members", "anyone"])
def test_first_post_rule_only_holds_the_first(who: str) -> None:
    rules = Posting(who=who, first_post_moderated=True)
    verdict = decide_post(rules, is_member=True, is_moderator=False, post_count=1, size=10,
                          automatic=False)
    assert verdict == ACCEPT


@pytest.mark.parametrize(("size", "expected"), [
    (100 * 1024, ACCEPT),
    (100 * 1024 + 1, Verdict("reject", "too-large")),
    (10 * 1024 * 1024, Verdict("reject", "too-large")),
])
@pytest.mark.parametrize("standing", ["member", "moderator", "non-member"])
def test_decide_post_size(size: int, expected: Verdict, standing: str) -> None:
    is_member, is_moderator = STANDING[standing]
    rules = Posting(who="anyone", max_kb=100)
    verdict = decide_post(rules, is_member=is_member, is_moderator=is_moderator, post_count=5,
                          size=size, automatic=False)
    assert verdict == expected


@pytest.mark.parametrize(("standing", "expected"), [
    ("member", Verdict("hold", "automatic")),
    ("non-member", Verdict("hold", "automatic")),
    ("moderator", ACCEPT),
])
def test_decide_post_automatic(standing: str, expected: Verdict) -> None:
    is_member, is_moderator = STANDING[standing]
    verdict = decide_post(Posting(who="anyone"), is_member=is_member, is_moderator=is_moderator,
                          post_count=3, size=10, automatic=True)
    assert verdict == expected


# ---------------------------------------------------------------------------------------------
# The list's copy

LIST = ListHeaders(title="SEL", list_id="sel.example.org", post="sel@example.org",
                   request="sel-request@example.org", unsubscribe_url=None, prefix="[sel]")
HEAD = (b"Return-Path: <marie@example.com>\r\n"
        b"Received: from mx.example.com by lists.example.org; Mon, 3 Nov 2025 10:00:00 +0100\r\n"
        b"From: Marie <marie@example.com>\r\n"
        b"Sender: marie@example.com\r\n"
        b"To: sel@example.org\r\n"
        b"Bcc: secret@example.net\r\n"
        b"Subject: Re: [sel] Caf\xe9\r\n"
        b"List-Id: Old list <old.example.net>\r\n"
        b"Precedence: bulk\r\n"
        b"Reply-To: Marie Perso <perso@example.com>\r\n"
        b"Message-ID: <m1@example.com>\r\n"
        b"In-Reply-To: <m0@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n")
BODY = b"Caf\xe9 \x80 \x93ok\x94\r\n\r\n-- \r\nMarie\r\n"


def post(**changes: object) -> PostHeaders:
    base = PostHeaders(subject="Re: [sel] Café", from_name="Marie",
                       from_address="marie@example.com", reply_to_rule="list",
                       rewrite_from=False, original_reply_to="Marie Perso <perso@example.com>",
                       has_message_id=True)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def copy_of(raw: bytes, p: PostHeaders, lst: ListHeaders = LIST) -> tuple[bytes, EmailMessage]:
    out = build_list_copy(raw, p, lst, "lists.example.org")
    msg = message_from_bytes(out, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return out, msg


def assert_body_kept(out: bytes, body: bytes) -> None:
    """The first blank line of the copy is the header end, and the bytes after it are `body`."""
    assert out.index(b"\r\n\r\n") == len(out) - len(body) - 4
    assert out.endswith(b"\r\n\r\n" + body)
    assert split_raw(out)[1] == body


def test_list_copy_body_is_byte_for_byte_the_input() -> None:
    out, _ = copy_of(HEAD + b"\r\n" + BODY, post())
    assert_body_kept(out, BODY)


def test_list_copy_keeps_a_malformed_mime_body() -> None:
    head = (b"From: Marie <marie@example.com>\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="zz"\r\n')
    body = (b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
            b"base64\r\n\r\n!!not base64\xff\xfe\r\n--zz\r\nno end boundary \xe9\r\n")
    out, _ = copy_of(head + b"\r\n" + body, post(subject="x", has_message_id=False))
    assert_body_kept(out, body)


def test_list_copy_of_a_message_with_bare_lf_lines() -> None:
    head = HEAD.replace(b"\r\n", b"\n")
    body = b"line one\nline two \xe9\n"
    out, msg = copy_of(head + b"\n" + body, post())
    assert_body_kept(out, body)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "[sel] Re: Café"


def test_list_copy_headers_with_reply_to_the_list() -> None:
    out, msg = copy_of(HEAD + b"\r\n" + BODY, post())
    for gone in ("Bcc", "Return-Path", "Sender"):
        assert (msg[gone] is None) == (gone != "Sender")
    assert msg.get_all("List-Id") == ["SEL <sel.example.org>"]
    assert msg.get_all("Precedence") == ["list"]
    assert msg.get_all("Subject") == ["[sel] Re: Café"]
    assert msg.get_all("Reply-To") == ["SEL <sel@example.org>"]
    assert msg["From"] == "Marie <marie@example.com>"
    assert msg.get_all("Message-ID") == ["<m1@example.com>"]
    assert msg["In-Reply-To"] == "<m0@example.com>"
    assert msg["Received"].startswith("from mx.example.com")
    assert msg["List-Post"] == "<mailto:sel@example.org>"
    assert msg["List-Help"] == "<mailto:sel-request@example.org?subject=help>"
    assert msg["List-Subscribe"] == "<mailto:sel-request@example.org?subject=subscribe>"
    assert msg["List-Unsubscribe"] == "<mailto:sel-request@example.org?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None
    assert msg["X-Original-From"] is None
    assert b"secret@example.net" not in out


def test_list_copy_with_reply_to_the_author_keeps_their_reply_to() -> None:
    _, msg = copy_of(HEAD + b"\r\n" + BODY, post(reply_to_rule="author"))
    assert msg.get_all("Reply-To") == ["Marie Perso <perso@example.com>"]
    assert msg["From"] == "Marie <marie@example.com>"


def test_list_copy_with_reply_to_the_author_and_no_reply_to_adds_none() -> None:
    head = HEAD.replace(b"Reply-To: Marie Perso <perso@example.com>\r\n", b"")
    _, msg = copy_of(head + b"\r\n" + BODY, post(reply_to_rule="author", original_reply_to=""))
    assert msg["Reply-To"] is None


@pytest.mark.parametrize(("reply_to_rule", "original_reply_to", "reply_to"), [
    ("list", "", "SEL <sel@example.org>, Marie <marie@example.com>"),
    ("list", "Marie Perso <perso@example.com>",
     "SEL <sel@example.org>, Marie Perso <perso@example.com>"),
    ("author", "", "Marie <marie@example.com>"),
    ("author", "Marie Perso <perso@example.com>", "Marie Perso <perso@example.com>"),
])
def test_list_copy_with_from_rewritten(reply_to_rule: str, original_reply_to: str,
                                       reply_to: str) -> None:
    _, msg = copy_of(HEAD + b"\r\n" + BODY,
                     post(rewrite_from=True, reply_to_rule=reply_to_rule,
                          original_reply_to=original_reply_to))
    assert msg.get_all("From") == ["Marie via SEL <sel@example.org>"]
    assert msg.get_all("X-Original-From") == ["Marie <marie@example.com>"]
    assert msg.get_all("Reply-To") == [reply_to]
    assert msg["Sender"] is None


def test_list_copy_from_rewrite_without_a_display_name_uses_the_local_part() -> None:
    _, msg = copy_of(HEAD + b"\r\n" + BODY, post(rewrite_from=True, from_name=""))
    assert msg["From"] == "marie via SEL <sel@example.org>"
    assert msg["X-Original-From"] == "marie@example.com"


def test_list_copy_one_click_unsubscribe() -> None:
    lst = dataclasses.replace(LIST, unsubscribe_url="https://lists.example.org/u/abc")
    _, msg = copy_of(HEAD + b"\r\n" + BODY, post(), lst)
    assert msg["List-Unsubscribe"] == ("<https://lists.example.org/u/abc>, "
                                       "<mailto:sel-request@example.org?subject=unsubscribe>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_list_copy_adds_a_message_id_when_missing() -> None:
    head = HEAD.replace(b"Message-ID: <m1@example.com>\r\n", b"")
    _, msg = copy_of(head + b"\r\n" + BODY, post(has_message_id=False))
    ids = msg.get_all("Message-ID")
    assert ids is not None and len(ids) == 1
    assert re.fullmatch(r"<[^<>@\s]+@lists\.example\.org>", str(ids[0]))


@pytest.mark.parametrize("field", ["subject", "from_name"])
@pytest.mark.parametrize("injection", [
    "Hi\r\nBcc: evil@example.net\r\nX-Injected: yes",
    "Hi\nBcc: evil@example.net\nX-Injected: yes",
    "Hi\rBcc: evil@example.net\rX-Injected: yes",
    "Hi\r\n\r\nX-Injected: yes",
])
def test_list_copy_header_injection_is_impossible(field: str, injection: str) -> None:
    head = HEAD.replace(b"Bcc: secret@example.net\r\n", b"")
    out, msg = copy_of(head + b"\r\n" + BODY, post(rewrite_from=True, **{field: injection}))
    assert msg["Bcc"] is None
    assert msg["X-Injected"] is None
    assert_body_kept(out, BODY)
    header_block = out[: out.index(b"\r\n\r\n")]
    assert not re.search(rb"(?m)^(Bcc|X-Injected):", header_block)


@settings(max_examples=300, deadline=None)
@given(st.binary(), st.text(max_size=60), st.booleans(), st.sampled_from(["list", "author"]))
def test_list_copy_preserves_any_body(body: bytes, subject: str, rewrite: bool,
                                      reply_to_rule: str) -> None:
    out = build_list_copy(HEAD + b"\r\n" + body,
                          post(subject=subject, rewrite_from=rewrite, reply_to_rule=reply_to_rule),
                          LIST, "lists.example.org")
    assert_body_kept(out, body)


# ---------------------------------------------------------------------------------------------
# Rules


def test_rules_dataclass_defaults_equal_default_toml() -> None:
    """Every key of rules/default.toml is documented there with the dataclass default."""
    with (ROOT / "rules" / "default.toml").open("rb") as handle:
        data = tomllib.load(handle)
    defaults = ListRules()
    sections = {f.name for f in dataclasses.fields(defaults)}
    assert set(data) == sections
    for section in dataclasses.fields(defaults):
        current = getattr(defaults, section.name)
        keys = {f.name for f in dataclasses.fields(current)}
        assert set(data[section.name]) == keys, section.name
        for spec in dataclasses.fields(current):
            dotted = f"{section.name}.{spec.name}"
            value = convert_value(spec, data[section.name][spec.name], "default.toml", dotted)
            assert value == getattr(current, spec.name), dotted
    assert load_rules(ROOT / "rules", "default") == defaults


def test_contract_defaults() -> None:
    """The defaults SPEC.md's configuration table promises."""
    rules = ListRules()
    assert (rules.posting.who, rules.posting.reply_to, rules.posting.from_rewrite,
            rules.posting.max_kb, rules.posting.first_post_moderated) == (
        "members", "list", "auto", 5120, False)
    assert (rules.consent.period, rules.consent.reminder_before) == (
        timedelta(days=3), timedelta(hours=24))
    assert (rules.exchange.unit, rules.exchange.points_per_hour, rules.exchange.min_balance,
            rules.exchange.max_balance, rules.exchange.item_lifetime) == (
        "points", 60, -1200, 2400, timedelta(days=60))
    assert (rules.digest.time, rules.digest.weekday) == ("18:00", "sunday")
    assert (rules.bounces.threshold, rules.bounces.window) == (5, timedelta(days=7))


def rules_dir_with(tmp_path: Path, own: str, default: str | None = None) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "default.toml").write_text(
        default if default is not None else (ROOT / "rules" / "default.toml").read_text())
    (folder / "sel.toml").write_text(textwrap.dedent(own))
    return folder


def test_own_rules_override_only_what_they_name(tmp_path: Path) -> None:
    folder = rules_dir_with(tmp_path, """
        [posting]
        who = "anyone"
        max_kb = 200
        [consent]
        period = "72h"
        [digest]
        weekday = "friday"
        """)
    rules = load_rules(folder, "sel")
    assert rules.posting == dataclasses.replace(Posting(), who="anyone", max_kb=200)
    assert rules.consent.period == timedelta(hours=72)
    assert rules.consent.reminder_before == timedelta(hours=24)
    assert rules.digest.weekday == "friday"
    assert rules.exchange == ListRules().exchange


@pytest.mark.parametrize(("own", "key", "problem"), [
    ("[nope]\nx = 1\n", "nope", "unknown section"),
    ("posting = 1\n", "posting", "section"),
    ("[posting]\nnope = 1\n", "posting.nope", "unknown key"),
    ("[posting]\nmax_kb = 'big'\n", "posting.max_kb", "whole number"),
    ("[posting]\nmax_kb = true\n", "posting.max_kb", "whole number"),
    ("[posting]\nmax_kb = 0\n", "posting.max_kb", "positive"),
    ("[posting]\nfirst_post_moderated = 'yes'\n", "posting.first_post_moderated",
     "true or false"),
    ("[posting]\nwho = 'everyone'\n", "posting.who", "must be one of"),
    ("[posting]\nreply_to = 'sender'\n", "posting.reply_to", "must be one of"),
    ("[posting]\nfrom_rewrite = 'sometimes'\n", "posting.from_rewrite", "must be one of"),
    ("[digest]\nweekday = 'dimanche'\n", "digest.weekday", "must be one of"),
    ("[consent]\nperiod = '3 days'\n", "consent.period", "not a duration"),
    ("[consent]\nperiod = 3\n", "consent.period", "must be a string"),
    ("[bounces]\nwindow = '0s'\n", "bounces.window", "positive"),
    ("[digest]\ntime = '25:00'\n", "digest.time", "HH:MM"),
    ("[digest]\ntime = '6pm'\n", "digest.time", "HH:MM"),
    ("[digest]\ntime = '18h00'\n", "digest.time", "HH:MM"),
    ("[consent]\nperiod = '1d'\nreminder_before = '24h'\n", "consent.reminder_before",
     "shorter"),
    ("[consent]\nreminder_before = '4d'\n", "consent.reminder_before", "shorter"),
    ("[exchange]\nmin_balance = 5\n", "exchange.min_balance", "zero"),
    ("[exchange]\npoints_per_hour = 0\n", "exchange.points_per_hour", "positive"),
    ("[abuse]\nbanned = 'x@y.org'\n", "abuse.banned", "list of strings"),
    ("[abuse]\nbanned = [1]\n", "abuse.banned", "list of strings"),
    ("[bounces]\nthreshold = 0\n", "bounces.threshold", "1 or more"),
    ("[bounces]\nprobe_wait = 'soon'\n", "bounces.probe_wait", "not a duration"),
    ("[posting\n", "", "TOML"),
])
def test_rules_errors_name_the_file_and_the_key(tmp_path: Path, own: str, key: str,
                                                problem: str) -> None:
    folder = rules_dir_with(tmp_path, own)
    with pytest.raises(ConfigError) as caught:
        load_rules(folder, "sel")
    assert caught.value.file == str(folder / "sel.toml")
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{folder / 'sel.toml'}: ")


def test_an_error_in_default_toml_names_default_toml(tmp_path: Path) -> None:
    folder = rules_dir_with(tmp_path, "", default="[posting]\nwho = 'all'\n")
    with pytest.raises(ConfigError) as caught:
        load_rules(folder, "sel")
    assert (caught.value.file, caught.value.key) == (str(folder / "default.toml"), "posting.who")


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    folder = rules_dir_with(tmp_path, "")
    with pytest.raises(ConfigError) as caught:
        load_rules(folder, "paris")
    assert caught.value.file == str(folder / "paris.toml")
    assert "not found" in caught.value.problem


# ---------------------------------------------------------------------------------------------
# Config


def config_file(tmp_path: Path, **kwargs: object) -> Path:
    return write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                        **kwargs)  # type: ignore[arg-type]


def test_a_good_config_loads(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, moderators=("Alice@Example.ORG",)))
    assert isinstance(config, Config)
    assert config.server.database_url == f"sqlite:///{tmp_path.resolve() / 'x.db'}"
    assert config.server.rules_dir == tmp_path.resolve() / "rules"
    assert config.server.separator == "-"
    assert config.outbound.maildir == tmp_path / "out"
    assert config.outbound.smtp is None
    sel = config.get_list("sel")
    assert (sel.name, sel.domain, sel.title) == ("sel", "example.org", "SEL de Saint-Martin")
    assert sel.moderators == ("alice@example.org",)
    assert sel.is_moderator("ALICE@example.org")
    assert (sel.address, sel.list_id) == ("sel@example.org", "sel.example.org")
    assert sel.rules == ListRules()


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ('database_url = "sqlite:///x.db"\n', "", "server.database_url", "required"),
    ('database_url = "sqlite:///x.db"', 'database_url = "mysql://x"', "server.database_url",
     "must start with"),
    ("[server]\n", "[server]\nbogus = 1\n", "server.bogus", "unknown key"),
    ("[outbound]\n", "[outbound]\nbogus = 1\n", "outbound.bogus", "unknown key"),
    ('title = "', 'colour = "blue"\ntitle = "', "list[0].colour", "unknown key"),
    ('separator = "-"', 'separator = "."', "server.separator", '"-" or "+"'),
    ('separator = "-"', 'separator = "--"', "server.separator", '"-" or "+"'),
    ('separator = "-"', "separator = 1", "server.separator", "must be a str"),
    ("[outbound]\n", '[outbound]\nsmtp = "127.0.0.1:25"\n', "outbound", "exactly one"),
    ("maildir = ", "# maildir = ", "outbound", "exactly one"),
    ('"Europe/Paris"', '"Europe/Atlantis"', "server.timezone", "unknown timezone"),
    ('"Europe/Paris"', '""', "server.timezone", "unknown timezone"),
    ('"Europe/Paris"', '"../../etc/passwd"', "server.timezone", "unknown timezone"),
    ('language = "fr"', 'language = "de"', "server.language", "must be one of"),
    ('moderators = ["alice@example.org"]', 'moderators = ["alice"]', "list[0].moderators",
     "not a valid address"),
    ('moderators = ["alice@example.org"]', 'moderators = ["alice@"]', "list[0].moderators",
     "not a valid address"),
    ('moderators = ["alice@example.org"]', "moderators = [1]", "list[0].moderators",
     "email address"),
    ('listen = "127.0.0.1:0"', 'listen = "localhost"', "server.listen", "host:port"),
    ("[dns]\n", "[dns]\nbogus = 1\n", "dns.bogus", "unknown key"),
    ("timeout = 2\n", "timeout = 0\n", "dns.timeout", "more than 0"),
    ("nameservers = [", 'nameservers = ["x:y", ', "dns.nameservers", "host:port"),
    ("nameservers = [", "nameservers = [53, ", "dns.nameservers", "host:port strings"),
    ("[outbound]\n", '[outbound]\nverp = "yes"\n', "outbound.verp", "must be a bool"),
    ("[outbound]\n", "[outbound]\nbatch_recipients = 0\n", "outbound.batch_recipients",
     "at least 1"),
    ("[server]\n", "[server]\nauthserv_id = 3\n", "server.authserv_id", "must be a str"),
])
def test_config_errors_name_the_file_and_the_key(tmp_path: Path, old: str, new: str, key: str,
                                                 problem: str) -> None:
    path = edit(config_file(tmp_path), old, new)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_config_names_the_rules_file_when_the_rules_are_wrong(tmp_path: Path) -> None:
    path = config_file(tmp_path, rules="[posting]\nwho = 'nobody'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(tmp_path.resolve() / "rules" / "sel.toml")
    assert caught.value.key == "posting.who"


def test_config_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.toml")
    assert caught.value.file == str(tmp_path / "absent.toml")
    assert "not found" in caught.value.problem


def test_config_with_plus_separator(tmp_path: Path) -> None:
    assert load_config(config_file(tmp_path, separator="+")).server.separator == "+"


def test_attachments_are_the_files_not_the_bodies() -> None:
    from email.message import EmailMessage

    from mailbot.reading.message import attachments, parse

    msg = EmailMessage()
    msg["Subject"] = "x"
    msg.set_content("texte")
    msg.add_alternative("<p>texte</p>", subtype="html")
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="plan.pdf")
    msg.add_attachment(b"\x89PNG", maintype="image", subtype="png")  # no name
    msg.add_attachment("BEGIN:VCALENDAR", subtype="calendar")
    assert attachments(parse(msg.as_bytes())) == ["plan.pdf", "image/png"]
    plain = EmailMessage()
    plain.set_content("juste du texte")
    assert attachments(parse(plain.as_bytes())) == []
