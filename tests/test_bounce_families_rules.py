"""The bounce reader's rules, one by one: RFC 3464 fields wherever they sit, Action: expired,
Amazon SES notifications, what never counts against a member (complaints, auto-replies,
success notices, delays), and that every address it reports is a valid address."""

import json
from pathlib import Path

from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading.bounces import (
    AUTO_REPLY,
    UNKNOWN,
    BounceReport,
    diagnostic,
    read_bounce,
    read_returned,
)
from mailbot.reading.bounces.families import read as read_family
from mailbot.reading.bounces.report import read as read_report
from mailbot.reading.message import parse

DATA = Path(__file__).parent / "data" / "bounces"
CORPUS = DATA / "sisimai-set-of-emails" / "maildir" / "bsd"
NONE: frozenset[str] = frozenset()


def sample(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def failed(*addresses: str) -> BounceReport:
    return BounceReport("failure", frozenset(addresses), NONE)


def delayed(*addresses: str) -> BounceReport:
    return BounceReport("delay", NONE, frozenset(addresses))


def report(fields: str, *, boundary: str = "B", declared: str = "B",
           dsn_type: str = "message/delivery-status", top: str = "multipart/report") -> bytes:
    """A multipart report whose second part holds `fields`."""
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: sel-bounces@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        f'Content-Type: {top}; report-type=delivery-status; boundary="{declared}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        f"--{boundary}\nContent-Type: {dsn_type}\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"{fields}\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\nFrom: sel@example.org\n"
        "To: marie@example.com\nSubject: Nouvelles\n\nBonjour\n"
        f"--{boundary}--\n").encode()


FAILED = "Final-Recipient: rfc822; marie@example.com\nAction: failed\nStatus: 5.1.1\n" \
         "Diagnostic-Code: smtp; 550 5.1.1 <marie@example.com>: User unknown\n"


# -- RFC 3464 fields wherever a server put them -----------------------------------------


def test_action_expired_is_a_failure_not_a_success() -> None:
    """SendGrid writes "Action: expired" (and no Status) for a delivery it gave up."""
    fields = "Final-Recipient: rfc822; marie@example.com\nAction: expired\nStatus: \n"
    assert read_bounce(report(fields)) == failed("marie@example.com")
    assert read_bounce(sample("lhost-sendgrid-03.eml")) == failed("kijitora@example.org")


def test_an_expired_action_with_a_4xx_status_is_temporary() -> None:
    fields = "Final-Recipient: rfc822; marie@example.com\nAction: expired\nStatus: 4.4.7\n"
    assert read_bounce(report(fields)) == delayed("marie@example.com")


def test_dsn_fields_in_a_text_plain_part_are_read() -> None:
    assert read_bounce(report(FAILED, dsn_type="text/plain")) == failed("marie@example.com")
    # Amazon WorkMail: the fields in a quoted-printable text part, cut mid-name.
    assert read_bounce(sample("lhost-amazonworkmail-02.eml")) == failed("sabineko@example.jp")


def test_a_report_whose_boundary_is_broken_is_still_read() -> None:
    raw = report(FAILED, boundary="AA92C1B23442.1528513261", declared="AA92C1B23442.17")
    assert parse(raw).is_multipart() is False  # the stdlib sees no part at all
    assert read_bounce(raw) == failed("marie@example.com")


def test_a_broken_report_is_cut_before_its_returned_message() -> None:
    """A DSN inside the returned message (a bounce of a bounce) is not this report's."""
    inner = report(FAILED.replace("marie@", "other@")).decode()
    raw = report(FAILED, boundary="X1", declared="X2").decode().replace(
        "Bonjour\n", inner + "\n").encode()
    assert read_bounce(raw) == failed("marie@example.com")


def test_a_status_4xx_is_temporary_whatever_the_action() -> None:
    fields = FAILED.replace("Status: 5.1.1", "Status: 4.4.1").replace("550 5.1.1", "450")
    assert read_bounce(report(fields)) == delayed("marie@example.com")


def test_a_x00_status_gives_way_to_the_servers_more_precise_code() -> None:
    """RFC 3463 §3.1: x.0.0 says "undefined"; the diagnostic's 4.2.2 says more."""
    fields = ("Final-Recipient: rfc822; marie@example.com\nAction: failed\nStatus: 5.0.0\n"
              "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full, try again later\n")
    assert read_bounce(report(fields)) == delayed("marie@example.com")


def test_a_status_field_gives_way_to_a_server_code_of_the_reply_codes_class() -> None:
    """sisimai's Status.prefer: "450 4.2.2" under "Status: 5.1.1" is a full mailbox, for now;
    "550 5.1.1" under the ambiguous "Status: 4.4.7" is an unknown user."""
    full = FAILED.replace("550 5.1.1 <marie@example.com>: User unknown", "450 4.2.2 Over quota")
    assert read_bounce(report(full)) == delayed("marie@example.com")
    unknown = FAILED.replace("Status: 5.1.1", "Status: 4.4.7")
    assert read_bounce(report(unknown)) == failed("marie@example.com")


def test_an_invalid_original_recipient_gives_way_to_the_final_one() -> None:
    fields = FAILED.replace("Action:", "Original-Recipient: rfc822; marie\nAction:")
    assert read_bounce(report(fields)) == failed("marie@example.com")


# -- Amazon SES notifications --------------------------------------------------------------


def ses(payload: dict[str, object], *, envelope: bool = False) -> bytes:
    body = json.dumps({"Type": "Notification", "Message": json.dumps(payload)}
                      if envelope else payload)
    return ("From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n"
            "Content-Type: text/plain; charset=UTF-8\n\n" + body + "\n--\nunsubscribe\n").encode()


BOUNCE = {"notificationType": "Bounce", "bounce": {
    "bounceType": "Permanent", "bounceSubType": "General",
    "bouncedRecipients": [{"emailAddress": "marie@example.com", "status": "5.1.1",
                           "action": "failed", "diagnosticCode": "smtp; 550 5.1.1 unknown"}]},
    "mail": {"source": "sel@example.org", "destination": ["marie@example.com"]}}


def test_an_ses_permanent_bounce_names_its_recipients_only() -> None:
    assert read_bounce(ses(BOUNCE)) == failed("marie@example.com")
    assert read_bounce(ses(BOUNCE, envelope=True)) == failed("marie@example.com")
    assert read_bounce(sample("lhost-amazonses-09.eml")) == failed(
        "bounce@simulator.amazonses.com")  # its JSON is cut mid-line: read field by field


def test_an_ses_transient_bounce_is_temporary() -> None:
    transient = json.loads(json.dumps(BOUNCE))
    transient["bounce"]["bounceType"] = "Transient"
    assert read_bounce(ses(transient)) == delayed("marie@example.com")


def test_ses_complaints_and_deliveries_never_count() -> None:
    complaint = {"notificationType": "Complaint", "complaint": {
        "complainedRecipients": [{"emailAddress": "marie@example.com"}]}}
    delivery = {"notificationType": "Delivery", "delivery": {
        "recipients": ["marie@example.com"], "smtpResponse": "250 2.6.0 Message received"}}
    assert read_bounce(ses(complaint)).kind == "complaint"
    assert read_bounce(ses(delivery)).kind == "success"
    assert read_bounce(sample("lhost-amazonses-11.eml")).kind == "complaint"
    assert read_bounce(sample("lhost-amazonses-12.eml")).kind == "success"


# -- What never counts against a member ----------------------------------------------------


def test_complaints_vacation_replies_and_success_notices_name_no_failure() -> None:
    for name, kind in [("arf-01.eml", "complaint"), ("arf-16.eml", "complaint"),
                       ("rfc3834-02.eml", "auto-reply"), ("rfc3464-28.eml", "success")]:
        got = read_bounce(sample(name))
        assert (got.kind, got.permanent) == (kind, NONE), name


def test_a_postmasters_failure_notice_is_no_out_of_office_reply() -> None:
    """m-FILTER signs as POSTMASTER, which the message headers alone call an auto-reply."""
    raw = sample("lhost-mfilter-02.eml")
    assert read_returned(raw, "auto-reply") == failed("kijitora@example.co.jp")
    unreadable = (b"From: Postmaster <postmaster@example.org>\nSubject: failure notice\n\n"
                  b"Something went wrong with your message.\n")
    assert read_returned(unreadable, "auto-reply") == UNKNOWN
    person = (b"From: Marie <marie@example.com>\nSubject: Re: Nouvelles\n\n"
              b"Je suis en vacances.\n")
    assert read_returned(person, "auto-reply") == AUTO_REPLY


def test_delays_never_count_as_permanent() -> None:
    # Exim retrying ("all hosts have been failing for a long time"), OpenSMTPD's delay
    # report, qmail quoting a server's "temporarily deferred", Zoho's warning.
    assert read_bounce(sample("lhost-exim-08.eml")) == delayed("kijitora@example.org")
    assert read_bounce(sample("lhost-opensmtpd-12.eml")) == delayed("neko@nyaan.jp")
    assert read_bounce(sample("lhost-qmail-19.eml")) == delayed(
        "pseudo-local-part-of-yahoo-inc@yahoo.com")
    assert read_bounce(sample("lhost-zoho-05.eml")) == delayed("kijitora@7jo.example.jp")


def test_a_4xx_qmail_gave_up_on_is_permanent_unless_called_temporary() -> None:
    raw = sample("lhost-qmail-06.eml")  # "450 4.2.2 ... Mailbox Full ... Giving up"
    assert read_bounce(raw) == failed("kijitora@example.jp")
    told = raw.replace(b"Mailbox Full", b"Mailbox temporarily full")
    assert read_bounce(told) == delayed("kijitora@example.jp")


# -- Addresses are addresses --------------------------------------------------------------


def test_no_message_id_json_fragment_or_command_line_is_reported() -> None:
    assert read_bounce(sample("lhost-zoho-01.eml")) == failed("kijitora@example.co.jp")
    assert read_bounce(sample("lhost-exim-44.eml")) == failed("kijitora@example.com")


def test_the_last_resort_family_reads_what_flufl_bounce_does_not_know() -> None:
    msg = parse(sample("rfc3464-39.eml"))
    found = read_family(msg, read_report(msg).text, "", last_resort=True)
    assert [(f.family, f.address) for f in found] == [("generic", "kijitora@nyaan.example.net")]


def test_a_family_notice_gives_the_servers_words_to_the_moderators() -> None:
    said = diagnostic(sample("lhost-qmail-09.eml"))
    assert said.startswith("<neko@example.co.jp>: 203.0.113.225 does not like recipient.")
    assert "550 5.7.606 Access denied" in said and len(said) <= 300


def _valid(report: BounceReport) -> None:
    for address in report.permanent | report.temporary:
        validate_email(address, check_deliverability=False, allow_quoted_local=True)
        assert address == address.lower()


@given(st.binary(max_size=3000))
@settings(max_examples=200, deadline=None)
def test_junk_bytes_never_raise_nor_name_an_invalid_address(raw: bytes) -> None:
    _valid(read_bounce(raw))


FAMILY_FILES = sorted(p.name for p in CORPUS.glob("lhost-*.eml"))[::7]


@given(st.sampled_from(FAMILY_FILES), st.lists(st.tuples(
    st.integers(min_value=0), st.binary(min_size=0, max_size=40)), min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_spliced_notices_never_raise_nor_name_an_invalid_address(
        name: str, splices: list[tuple[int, bytes]]) -> None:
    raw = bytearray(sample(name))
    for at, junk in splices:
        position = at % (len(raw) + 1)
        raw[position:position] = junk
    _valid(read_bounce(bytes(raw)))
