"""read_bounce over a corpus of real bounce samples (tests/data/bounces, see SOURCES.md),
and its promise never to raise, whatever the bytes."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading.bounces import BounceReport, read_bounce

DATA = Path(__file__).parent / "data" / "bounces"
NONE: frozenset[str] = frozenset()
KINDS = {"failure", "delay", "success", "complaint", "auto-reply", "unknown"}


def failure(*addresses: str) -> tuple[str, frozenset[str], frozenset[str]]:
    return "failure", frozenset(addresses), NONE


def delay(*addresses: str) -> tuple[str, frozenset[str], frozenset[str]]:
    return "delay", NONE, frozenset(addresses)


def nothing(kind: str) -> tuple[str, frozenset[str], frozenset[str]]:
    return kind, NONE, NONE


# File name -> (kind, permanent, temporary), read off each sample by hand.
EXPECTED = {
    # Postfix
    "postfix-text-mailman.eml": failure("xxxxx@local.ie"),
    "postfix-dsn-ocn.eml": failure("kijitora@example.co.jp"),
    # "Action: failed" but "Status: 4.4.1": the address is not at fault.
    "postfix-dsn-failed-4xx.eml": delay("subscriber@example.com"),
    # Original-Recipient (what the list sent to) is used, not Final-Recipient (xxx@…).
    "postfix-delayed.eml": delay("userx@example.fi"),
    "postfix-success-expanded.eml": nothing("success"),
    # Exim
    "exim2-mailman.eml": failure("userx@its.example.nl"),
    "exim4-yahoo-disabled.eml": failure("subscriber@example.com"),
    "exim4-local-part-only.eml": failure("kijitora@example.ed.jp"),
    # Sendmail: the address the list sent to, not the alias it expanded to (see XFAIL).
    "sendmail-text-mailman.eml": failure("zzzzz@nfg.nl"),
    "sendmail-dsn.eml": failure("kijitora@example.org"),
    # qmail: a 4.x.x reply, but qmail gave up ("This is a permanent error").
    "qmail-mailman.eml": failure("userx@example.de"),
    "qmail-gave-up-4xx.eml": failure("kijitora@example.jp"),
    # Microsoft
    "exchange55-mailman.eml": failure("userx@example.com"),
    "exchange2007-dsn.eml": failure("mikeneko@example.co.jp"),
    "outlook-com-dsn.eml": failure("kijitora@example.jp"),
    # Google
    "gmail-2010-text.eml": failure("aougoueioaldljgoiuiorghladkgke@example.fr"),
    "gmail-gsuite-dsn.eml": failure("kijitora@example.com"),
    "amazonses-gmail-dsn.eml": failure("this.is.going.to.bounce.67876543@gmail.com"),
    # Yahoo (qmail-like; "not going to try again")
    "yahoo-mailman.eml": failure("userx@example.com"),
    # Other delays
    "vopmail-delayed.eml": delay("userx@example.cz"),
    # Not bounces
    "arf-terra-abuse.eml": nothing("complaint"),
    "vacation-en-exchange.eml": nothing("auto-reply"),
    "vacation-fr-outlook.eml": nothing("auto-reply"),
    "vacation-fr-sieve.eml": nothing("auto-reply"),
    "autoreply-precedence-bulk.eml": nothing("auto-reply"),
}

XFAIL = {
    "sendmail-text-mailman.eml": "the Sendmail family's rules also report the alias target "
    "(zzzzz@shaft.coal.nl) next to the address it was expanded from; harmless for member "
    "lookup, and no small rule tells the two apart in this free-text format",
}

SAMPLES = sorted(p.name for p in DATA.glob("*.eml"))


def _rows() -> list[object]:
    return [pytest.param(name, expected, id=name,
                         marks=[pytest.mark.xfail(strict=True, reason=XFAIL[name])]
                         if name in XFAIL else [])
            for name, expected in sorted(EXPECTED.items())]


def test_every_sample_has_an_expectation() -> None:
    assert sorted(EXPECTED) == SAMPLES


@pytest.mark.parametrize(("name", "expected"), _rows())
def test_sample(name: str, expected: tuple[str, frozenset[str], frozenset[str]]) -> None:
    report = read_bounce((DATA / name).read_bytes())
    assert (report.kind, report.permanent, report.temporary) == expected


@pytest.mark.parametrize("name", ["postfix-dsn-ocn.eml", "vacation-fr-sieve.eml"])
def test_crlf_reads_the_same(name: str) -> None:
    raw = (DATA / name).read_bytes()
    assert read_bounce(raw.replace(b"\n", b"\r\n")) == read_bounce(raw)


def test_a_success_among_failures_does_not_hide_them() -> None:
    raw = (DATA / "postfix-dsn-ocn.eml").read_bytes().replace(
        b"Action: failed\nStatus: 5.1.1\n",
        b"Action: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; Ok@Example.org\n"
        b"Action: delivered\nStatus: 2.0.0\n")
    assert read_bounce(raw) == BounceReport("failure", frozenset({"kijitora@example.co.jp"}),
                                            NONE)


QMAIL_FROM = b"From: MAILER-DAEMON@gate0.n-h.net\n"


@pytest.mark.parametrize("from_line", [
    b"",  # no From at all: flufl.bounce 6.0's Yale detector raised, and nothing else ran
    b"From: \n",
    b"From: Mail Delivery \xe9 <MAILER-DAEMON@gate0.n-h.net>\n",  # 8-bit: compat32 Header
])
def test_a_text_bounce_with_an_odd_from_is_still_read(from_line: bytes) -> None:
    raw = (DATA / "qmail-mailman.eml").read_bytes()
    assert QMAIL_FROM in raw
    report = read_bounce(raw.replace(QMAIL_FROM, from_line))
    assert report == BounceReport("failure", frozenset({"userx@example.de"}), NONE)


def _check(report: BounceReport) -> None:
    assert report.kind in KINDS
    for addresses in (report.permanent, report.temporary):
        assert isinstance(addresses, frozenset)
        assert all(isinstance(a, str) and a == a.lower() for a in addresses)
    if report.kind not in ("failure", "delay"):
        assert report.permanent == report.temporary == NONE


@given(st.binary(max_size=4000))
@settings(max_examples=300, deadline=None)
def test_never_raises_on_any_bytes(raw: bytes) -> None:
    _check(read_bounce(raw))


_EDITS = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete"]),
              st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    min_size=1, max_size=30)


def _mutate(raw: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(raw)
    for op, position, value in edits:
        at = position % (len(data) + 1)
        if op == "insert":
            data.insert(at, value)
        elif data and op == "flip":
            data[at % len(data)] ^= value or 1
        elif data:
            del data[at % len(data)]
    return bytes(data)


@given(st.sampled_from(SAMPLES), _EDITS)
@settings(max_examples=300, deadline=None)
def test_never_raises_on_mutated_samples(name: str, edits: list[tuple[str, int, int]]) -> None:
    _check(read_bounce(_mutate((DATA / name).read_bytes(), edits)))
