"""The pipeline is a list: the stages a post passes, in order, each a pure function."""

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailbot.reading.message as message_module
from mailbot.config.rules import ListRules
from mailbot.outbound.headers import ListHeaders
from mailbot.pipeline import stages
from mailbot.reading.message import has_message_id, header, parse
from tests.helpers import make_message


def post(raw: bytes, *, rules: ListRules | None = None, **standing: object) -> stages.Post:
    from mailbot.config import ListConfig

    mlist = ListConfig(name="sel", domain="example.org", title="SEL", moderators=(),
                       rules_name="sel",
                       rules=rules or ListRules(), language="fr", unsubscribe_url=None)
    values: dict[str, object] = {
        "raw": raw, "msg": parse(raw), "mlist": mlist, "author": "marie@example.com",
        "author_name": "Marie", "is_member": True, "is_moderator": False, "post_count": 3,
        "automatic": False, "size": len(raw), "strict_dmarc": False, "hostname": "bot.test",
        "list_headers": ListHeaders("SEL", "sel.example.org", "sel@example.org",
                                    "sel-request@example.org", None, "[sel]"),
        **standing}
    return stages.Post(**values)  # type: ignore[arg-type]


def without_message_id(raw: bytes) -> bytes:
    return re.sub(rb"(?im)^Message-ID:.*\r?\n", b"", raw)


def draft(p: stages.Post) -> stages.Draft:
    return stages.Draft(p.raw, p.msg)


def test_the_stages_are_named_in_the_order_a_post_passes_them() -> None:
    names = [n for n, _ in stages.BEFORE_HOOKS] + [n for n, _ in stages.AFTER_HOOKS]
    assert names == ["authorize", "message-id", "dmarc", "block", "decorate"]


def test_a_stranger_is_held_and_no_later_stage_runs() -> None:
    p = post(without_message_id(make_message()), is_member=False)
    done = stages.run(stages.BEFORE_HOOKS, p, draft(p))
    assert done.verdict == stages.Verdict("hold", "not-member")
    assert done.raw == p.raw  # message-id did not run


def test_an_approved_post_passes_authorize() -> None:
    p = post(make_message(), is_member=False, approved=True)
    assert stages.run(stages.BEFORE_HOOKS, p, draft(p)).verdict.action == "accept"


def test_a_post_without_message_id_gets_one_that_every_copy_keeps() -> None:
    p = post(without_message_id(make_message()))
    assert not header(p.msg, "Message-ID")
    done = stages.run(stages.BEFORE_HOOKS, p, draft(p))
    given = header(done.msg, "Message-ID")
    assert given.endswith("@bot.test>")
    copy = stages.run(stages.AFTER_HOOKS, p, done)
    assert header(parse(copy.raw), "Message-ID") == given


@pytest.mark.parametrize(("rule", "strict", "rewrite"), [
    ("never", True, False), ("always", False, True), ("auto", True, True),
    ("auto", False, False)])
def test_dmarc_decides_the_from_rewrite(rule: str, strict: bool, rewrite: bool) -> None:
    rules = ListRules()
    rules = dataclasses.replace(rules, posting=dataclasses.replace(rules.posting,
                                                                    from_rewrite=rule))
    p = post(make_message(), rules=rules, strict_dmarc=strict)
    assert stages.choose_from(p, draft(p)).rewrite_from is rewrite


def test_block_then_decorate_make_the_copy() -> None:
    p = post(make_message(subject="Fête", body="Samedi.\n"))
    done = stages.run(stages.AFTER_HOOKS, p,
                      dataclasses.replace(draft(p), block="--- Proposition n°1 ---"))
    copy = parse(done.raw)
    assert header(copy, "Subject") == "[sel] Fête" and header(copy, "List-Id")
    body = copy.get_body(("plain",))
    assert body is not None
    text = str(body.get_content()).replace("\r\n", "\n")
    assert text.startswith("--- Proposition n°1 ---\n\nSamedi.")


def test_the_stores_speak_the_statuses_of_the_domains() -> None:
    """storage/ cannot import the domains above it: it repeats their status words."""
    from mailbot.decisions import lifecycle
    from mailbot.exchange import items
    from mailbot.storage import exchange, proposals

    assert (proposals.OPEN, proposals.ADOPTED, proposals.CONTESTED) == (
        lifecycle.OPEN, lifecycle.ADOPTED, lifecycle.CONTESTED)
    assert exchange.ACTIVE == items.ACTIVE


# --- a Message-ID seen without parsing it, when it is the usual "<id@host>" -------------

def _with_message_id(value: bytes | None) -> bytes:
    head = b"Message-ID: " + value + b"\r\n" if value is not None else b""
    return head + b"From: m0@example.net\r\nSubject: x\r\n\r\nbody\r\n"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(message_module._PLAIN_MESSAGE_ID, fullmatch=True))
def test_a_plain_message_id_is_one_header_reads_too(value: str) -> None:
    msg = parse(_with_message_id(value.encode()))
    assert has_message_id(msg) and header(msg, "Message-ID")


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(st.characters(blacklist_characters="\r\n"), max_size=40),
    st.text(" \t<>@.\"\\()[]abc\x01\x7f\u00e9", max_size=20)))
def test_has_message_id_says_what_header_says(value: str) -> None:
    """Blank, unbalanced, quoted, 8-bit, control characters: the shortcut or the full
    read, never a different answer (a value the shortcut takes wrongly fails here)."""
    msg = parse(_with_message_id(value.encode("utf-8", "surrogatepass")))
    assert has_message_id(msg) == bool(header(msg, "Message-ID"))


def test_no_message_id_header_is_none() -> None:
    assert not has_message_id(parse(_with_message_id(None)))
    assert not has_message_id(parse(_with_message_id(b"   ")))
    assert has_message_id(parse(_with_message_id(b"<a.b@c.example>")))
