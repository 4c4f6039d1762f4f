"""Every message the bot writes: both languages, every branch, short plain text."""

from typing import Any

import pytest

from mailbot.outbound.compose import DEFAULT_TEMPLATES, Composer
from mailbot.storage.models import Member

LIST = {"title": "SEL de Saint-Martin", "name": "sel", "address": "sel@example.org",
        "request": "sel-request@example.org", "owner": "sel-owner@example.org",
        "has_charter": True}
RESULT_CODES = ["help", "nothing", "already-member", "not-member", "confirm-join",
                "done-leave", "done-add", "done-remove", "done-pay",
                "confirm-leave", "confirm-add", "confirm-remove", "one-at-a-time", "nomail",
                "mail", "language", "language-unknown", "not-allowed", "members",
                "missing-address", "bad-address", "already-member-other", "not-member-other",
                "reply-to-notice", "proposals", "decisions", "withdrawn", "extended",
                "no-such-proposal", "not-yours", "not-open", "proposal-usage", "extend-usage",
                "digest-mode", "digest-format", "digest-usage", "confirm-pay", "pay-usage",
                "payee-unknown", "payee-ambiguous", "below-minimum", "above-maximum",
                "to-self", "balance", "statement", "items", "item-usage", "no-such-item",
                "not-your-item", "item-closed", "item-renewed", "item-closed-now", "unclear",
                "invited-other", "for-other", "post-it", "stance-objection",
                "stance-objection-again", "stance-support", "stance-closed", "dispute-passed",
                "archive-index", "archive-empty", "archive-post", "no-such-post",
                "archive-usage", "archive-too-many", "archive-members-only",
                "charter", "no-charter", "moderators-only", "member-usage",
                "not-for-moderators", "moderated", "already-moderated", "unmoderated",
                "not-moderated", "reminded", "confirm-ban", "done-ban", "already-banned",
                "unbanned", "not-banned",
                # issue 19: join, slips, corrections, yearly statements
                "done-join", "slip-not-allowed", "slip-unknown", "slip-ambiguous",
                "slip-unreadable", "slip-no-amount", "slip-bad-day", "slip-below-minimum",
                "slip-above-maximum", "slip-to-self", "slip-not-positive", "slip-confirm",
                "slip-added", "slip-done", "ledger-no-entry", "ledger-corrected-already",
                "ledger-reverse-confirm", "ledger-reversed", "ledger-not-allowed",
                "ledger-no-account", "year-statement", "buddy-not-in-care",
                "buddy-confirm-pay", "buddy-done", "buddy-refused", "buddy-balance",
                "buddy-statement", "buddy-unclear", "buddy-cannot", "agenda-sent",
                "agenda-not-allowed"]
REPLY = {"from_list": False, "quoted": "je voudrais le truc",
         "examples": {"name": "Bob", "amount": "1h30"}}
MONEY = {"points": 90, "unit": "points", "hours": "1h30"}
VALUES = {"ask": "De quelle Marie s'agit-il ?", "target": "paul@example.org",
          "address": "not-an-address", "language": "fr",
          "choices": "fr, en", "count": 1, "mode": "daily", "format": "mime", "number": 12,
          "title": "Tondeuse", "who": "Mari", "candidates": ["Marie <m@x.org>"],
          "payee": "Bob", "memo": "jardinage", "amount": MONEY, "balance": MONEY,
          "min": MONEY, "max": MONEY, "kind": "offer", "category": "jardin",
          "entries": [{"number": 7, "title": "Guitare", "category": "", "author": "Marie",
                     "email": "m@x.org"}], "expires": "22 janvier 2027",
          "lines": [{"id": 1, "date": "2026-11-23", "signed": MONEY, "other": "b@x.org",
                     "memo": "pain"}],
          "deadline": "jeudi 26 novembre à 13h00", "year": 2026,
          "proposals": [{"number": 12, "title": "Tondeuse", "proposer": "Marie",
                         "deadline": "jeudi", "objections": 1}],
          "decisions": [{"number": 3, "title": "Fête", "date": "3 mai 2026"}],
          "posts": [{"number": 4, "date": "23 novembre 2026", "author": "Marie",
                     "subject": "Réunion"}], "latest": 4, "subject": "Réunion",
          "author": "Marie", "date": "23 novembre 2026", "most": 5,
          "members": [Member(email="marie@example.com", name="Marie", nomail=True)],
          "text": "Pas d'attaques personnelles.\n", "email": "paul@example.org", "days": 7,
          "others": 1, "member": True, "action": "moderate",
          "payer": "Bob", "day": "12 novembre 2026", "entry": 4, "opening": MONEY,
          "name": "Zoé", "reason": "below-minimum", "received": MONEY, "paid": MONEY,
          "closing": MONEY}


AGENDA = {"contested": [{"number": 4, "title": "Tondeuse", "proposer": "Marie",
                        "settled": "3 mai 2026",
                        "objections": [{"who": "Bob", "reason": "Trop cher"}]}],
          "adopted": [{"number": 3, "title": "Fête", "date": "3 mai 2026"}],
          "since": "1 mai 2026",
          "month": {"name": "mai 2026", "count": 3, "moved": MONEY, "members": 4,
                    "corrections": 0, "below_zero": 1, "roster": 9}}
SLIP = {"payer": "Bob", "payee": "Dave", "amount": MONEY, "memo": "pain",
        "day": "12 novembre 2026", "entry": 4}


class R:
    def __init__(self, code: str) -> None:
        self.line, self.code, self.values = f"command for {code}", code, VALUES


def render(name: str, language: str, **values: Any) -> tuple[str, str]:
    return Composer().render(name, language, {"list": LIST, **values})


def templates() -> list[str]:
    names = {p.relative_to(DEFAULT_TEMPLATES).as_posix().rsplit(".", 2)[0]
             for p in DEFAULT_TEMPLATES.rglob("*.txt")}
    return sorted(n for n in names if not n.split("/")[-1].startswith("_"))


def test_every_template_exists_in_french_and_english() -> None:
    for path in DEFAULT_TEMPLATES.rglob("*.txt"):
        stem = path.name.rsplit(".", 2)[0]
        for language in ("fr", "en"):
            assert (path.parent / f"{stem}.{language}.txt").exists(), path


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("code", RESULT_CODES)
def test_each_command_result_has_its_own_sentence(code: str, language: str) -> None:
    subject, body = render("member/command-reply", language, results=[R(code)], **REPLY,
                           confirm=code.startswith("confirm-"))
    _, empty = render("member/command-reply", language, results=[R("no-such-code")],
                      **REPLY, confirm=False)
    assert body != empty, f"no sentence for {code!r}"
    assert subject and "{" not in body


PROPOSAL = {"number": 12, "title": "Tondeuse", "proposer": "Marie", "status": "open",
            "deadline": "jeudi 26 novembre à 13h00"}
OBJECTIONS = [{"email": "bob@example.net", "who": "Bob Martin",
               "reason": "Trop cher.\nParlons-en."}]
ITEM = {"number": 7, "kind": "offer", "title": "Cours de guitare", "category": "musique",
        "author": "Marie", "email": "m@x.org", "expires": "22 janvier 2027", "status": "active"}
BOUNCE = {"email": "b@x.org", "member_name": "Bob", "threshold": 5, "window_days": 7,
          "probes_max": 3, "probe_wait_days": 2, "detail": "b@x.org: 550 5.1.1 unknown"}
SAMPLES: dict[str, dict[str, Any]] = {
    "member/bounce-probe": BOUNCE, "member/bounce-resumed": {"why": "probe"},
    "moderator/bounce-suspended": {**BOUNCE, "score": 5},
    "moderator/bounce-resumed": {**BOUNCE, "why": "member"},
    "moderator/bounce-gave-up": {**BOUNCE, "probes": 3},
    "member/held": {"subject": "Vente", "reason": "not-member"},
    "member/rejected": {"subject": "Vente", "reason_code": "too-large", "reason": "",
                        "size_kb": 9000, "max_kb": 5120},
    "member/error": {"subject": "Vente"},
    "moderator/held": {"hold_id": 3, "sender": "x@example.net", "sender_name": "X",
                       "reason": "first-post", "subject": "Vente", "excerpt": "Bonjour"},
    "moderator/decision": {"hold_id": 3, "outcome": "done", "status": "approved", "count": 2,
                           "decided_by": ""},
    "moderator/change-done": {"action": "add", "target": "paul@example.org"},
    "member/proposal-opened": PROPOSAL,
    "member/stance": {**PROPOSAL, "code": "objection"},
    "member/proposal-contested": {**PROPOSAL, "objections": OBJECTIONS},
    "list/proposal-settled": {**PROPOSAL, "status": "contested", "objections": OBJECTIONS,
                              "supports": 2, "late": True},
    "list/proposal-reminder": {**PROPOSAL, "objections": 1},
    "list/proposal-changed": {**PROPOSAL, "change": "extended", "by": "Marie"},
    "member/pay-receipt": {"amount": MONEY, "memo": "pain", "payer": "a@x.org",
                           "payee": "b@x.org", "role": "payee", "balance": MONEY},
    "member/pay-refused": {"amount": MONEY, "memo": "", "payer": "a@x.org", "payee": "b@x.org",
                           "reason": "below-minimum"},
    "moderator/message-refused": {"subject": "[sel] Promo", "what": "un message de la liste",
                                  "count": 2, "error": "554 5.7.1 rejected as spam"},
    "member/rate-limited": {"until": "jeudi 26 novembre à 13h00"},
    "moderator/dispute": {"who": "Marie", "email": "m@x.org", "words": ["annule, erreur"],
                          "lines": [{"id": 4, "date": "2026-11-23", "signed": MONEY,
                                     "other": "Bob", "memo": "pain"}]},
    "member/confirm-again": {"action": "pay", "target": "b@x.org",
                             "when": "jeudi 26 novembre à 13h00", "amount": MONEY,
                             "memo": "jardinage", "payee": "Bob"},
    "member/confirm-retry": {"action": "pay", "target": "b@x.org", "amount": MONEY,
                             "memo": "jardinage", "payee": "Bob", "replier": "fille@x.org"},
    "member/confirm-not-yours": {"replier": "fille@x.org", "resent": True},
    "web/unsubscribe-ask": {"email": "m@x.org", "already": False},
    "web/unsubscribe-done": {"email": "m@x.org", "already": True},
    "web/unsubscribe-invalid": {"requests": ["sel-request@example.org"]},
    "member/moderated": {"until": "jeudi 26 novembre à 13h00"},
    "member/unmoderated": {},
    "member/reminder": {"charter": "1. Pas d'attaques personnelles.\n2. Bienveillance.\n"},
    "moderator/membership-change": {"event": {
        "kind": "moderate", "email": "b@x.org", "name": "Bob", "by": "Alice",
        "detail": "jeudi 26 novembre à 13h00"}},
    "moderator/membership-summary": {"count": 2, "events": [
        {"kind": k, "email": "b@x.org", "name": "Bob", "by": "Alice", "detail": "",
         "when": "jeudi 26 novembre à 13h00"} for k in (
            "join", "leave", "remove", "suspend", "moderate", "unmoderate", "ban", "unban",
            "remind", "other")]},
    "member/item-recorded": ITEM, "member/item-renewal": ITEM, "member/item-expired": ITEM,
    "member/item-match": {"mine": ITEM, "theirs": {**ITEM, "kind": "request"}},
    "member/digest": {"mode": "daily", "mime": False, "count": 1, "with_files": True,
                      "proposals": [PROPOSAL],
                      "decisions": [{"number": 3, "title": "Fête", "status": "adopted"}],
                      "threads": [], "items": [{"number": 2, "kind": "offer",
                                                "title": "Vélo", "author": "Bob"}]},
    # issue 19: join approval
    "moderator/join-request": {"newcomer": "j@x.org", "newcomer_name": "Jeanne",
                               "words": ["je fais du pain"]},
    "moderator/join-decided": {"newcomer": "j@x.org", "newcomer_name": "Jeanne", "reason": "non",
                               "outcome": "refused"},
    "member/join-waiting": {}, "member/join-refused": {"reason": "pas du quartier"},
    "member/ledger-receipt": {"entry": 4, "payer": "Bob", "payee": "Dave", "for_member": "",
                              "role": "payer", "amount": MONEY, "memo": "pain",
                              "day": "12 novembre 2026", "reverses": "", "recorder": "Alice",
                              "recorder_role": "treasurer", "balance": MONEY},
    "member/slips-recorded": {"lines": [SLIP], "correction": None},
    "member/letter-buddy": {"member_name": "Jeannine Roux", "first_name": "Jeannine",
                            "month_name": "décembre 2026"},
    "letter/monthly": {"member_name": "Jeannine Roux", "first_name": "Jeannine",
                       "month_name": "décembre 2026", "balance": MONEY,
                       "lines": [{"date": "12/12", "signed": MONEY, "other": "Bob",
                                  "memo": "pain"}],
                       "proposals": [PROPOSAL], "items": [ITEM], "buddy": "p@x.org",
                       "buddy_name": "Paul", "written": "1 janvier 2027"},
    "letter/agenda": AGENDA, "moderator/agenda": {**AGENDA, "text": "# Propositions"},
    "member/slips-refused": {"lines": [SLIP], "index": 1, "reason": "below-minimum"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", templates())
def test_template_renders_short_plain_text(name: str, language: str) -> None:
    values = SAMPLES.get(name, {"results": [R("help")], **REPLY, "confirm": False})
    subject, body = render(name, language, **values)
    assert subject and len(subject) < 120
    assert "{{" not in body and "{%" not in body
    assert len(body.splitlines()) <= 40  # elders first: short
    assert "http" not in body  # no link is ever needed
    if name.startswith("member/"):  # a member always learns where to go next (or whom to ask)
        assert "sel-owner@example.org" in body or "sel-request@example.org" in body


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(("code", "most"), [("help", 15), ("nothing", 8)])
def test_the_guide_and_not_understood_are_short(code: str, most: int, language: str) -> None:
    """Elders first: "aide" in at most 15 lines, "not understood" in at most 8, with real
    examples (a member's first name, an amount) and no placeholder."""
    _, body = render("member/command-reply", language, results=[R(code)], **REPLY,
                           confirm=False)
    lines = [line for line in body.splitlines() if line.strip()]
    assert len(lines) <= most, body
    assert "Bob" in body and "1h30" in body and "QUI" not in body and "WHO" not in body
    if code == "nothing":
        assert "je voudrais le truc" in body


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(("code", "says"), [
    ("balance", "90 points"), ("confirm-pay", "1h30 à Bob"), ("help", "Mode d'emploi"),
    ("nothing", "pas compris")])
def test_a_reply_subject_says_what_it_is(code: str, says: str, language: str) -> None:
    values = {**VALUES, "payee": "Bob", "balance": {"points": 90, "unit": "points",
                                                    "hours": "1h30"}}
    result = R(code)
    result.values = values
    subject, _ = render("member/command-reply", language, results=[result], **REPLY,
                        confirm=code.startswith("confirm-"))
    english = {"1h30 à Bob": "1h30 to Bob", "Mode d'emploi": "How to use",
               "pas compris": "not understand"}
    assert (says if language == "fr" else english.get(says, says)) in subject
    assert "Réponse à votre message" not in subject


def test_user_text_is_never_evaluated_as_a_template() -> None:
    _, body = render("member/held", "en", subject="{{ 7*7 }} {% raw %}", reason="not-member")
    assert "{{ 7*7 }} {% raw %}" in body and "49" not in body


@pytest.mark.parametrize("quoted", ["=?\x00tf-8?b?w6ljb2xl?=", "=?tf-8?b?w6ljb2xl?=",
                                    "=?utf-8?q?caf=C3=A9?=", "Réunion =?", "a=?b?=c"])
def test_a_subject_quoting_an_encoded_word_is_written_as_it_reads(quoted: str) -> None:
    """A held post's subject that looks like an RFC 2047 encoded word (a broken one from a
    mail client, here with a NUL in its charset) is shown as it is, not decoded again:
    decoded in an unknown charset beside the template's "à", the notice could not be
    written at all (the email package's folding failed)."""
    from datetime import UTC, datetime
    from email import message_from_bytes, policy

    from mailbot.outbound.compose import Sender
    from mailbot.reading.text import one_line

    composer = Composer()
    msg = composer.compose("moderator/held", "fr", {
        "list": LIST, "hold_id": 5, "sender": "jerome@example.net", "sender_name": "Jérôme",
        "reason": "moderated", "subject": quoted, "excerpt": "inscription", "max_posts": 5},
        to="mod@example.org", sender=Sender("SEL", "sel-request@example.org", None),
        now=datetime(2026, 12, 4, tzinfo=UTC))
    sent = message_from_bytes(msg.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert str(sent["Subject"]).replace("\u2060", "") == \
        f"Message à modérer n°5 : {one_line(quoted)} (SEL de Saint-Martin)"
