"""Membership requests to list-request@: help, join, leave, nomail/mail, language, members,
add, remove, digest. Join, leave, add and remove are confirmed by reply; a member may ask
for someone else only by being a moderator (or, to join, by that person's confirmation)."""

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from mailbot.bounces.tracking import resume
from mailbot.config import LANGUAGES
from mailbot.config.rules import DIGEST_MODES
from mailbot.digests.delivery import send_last
from mailbot.handling.actions import ask
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.lists.membership import join
from mailbot.reading.replies import own_text
from mailbot.reading.requests import Request
from mailbot.reading.text import fold
from mailbot.storage.members import Member

_LANGUAGE_WORDS = {"fr": "fr", "francais": "fr", "french": "fr",
                   "en": "en", "english": "en", "anglais": "en"}


def _help(state: Requester, request: Request) -> Outcome:
    return "help", {}


def _join(state: Requester, request: Request) -> Outcome:
    who = str(request.args.get("who", "") or state.sender)
    if who != state.sender:  # a member asks for a neighbour: that person confirms
        return _invite(state, who)
    if state.member is not None:
        return "already-member", {}
    if state.mlist.rules.membership.join == "open":  # rules: no confirmation asked
        join(state.ctx, state.mlist, state.sender, state.name, state.language,
             state.inbound.id)
        return "done-join", {}
    return _confirm(state, "join", state.sender, state.name, _words(state))


def _words(state: Requester) -> str:
    """The newcomer's own words, for the moderators who approve joins (a few lines)."""
    lines = [line.rstrip() for line in own_text(state.msg_text).splitlines() if line.strip()]
    return "\n".join(lines[:10])[:1000]


def _invite(state: Requester, who: str) -> Outcome:
    if state.ctx.stores.members.get(state.mlist.name, who) is not None:
        return "already-member-other", {"target": who}
    confirmation = ask(state.ctx, state.mlist, "join", email=who, target=who, name="",
                       language=state.mlist.language, memo=_words(state))
    state.ctx.outbox.send(state.mlist, "member/invite", state.mlist.language, {}, to=who,
                          purpose="notice", reply_token=confirmation.token,
                          inbound_id=state.inbound.id)
    return "invited-other", {"target": who}


def _leave(state: Requester, request: Request) -> Outcome:
    if state.member is None:
        return "not-member", {}
    return _confirm(state, "leave", state.sender, state.member.name)


def _confirm(state: Requester, action: str, target: str, name: str,
             memo: str | None = None) -> Outcome:
    if state.token is not None:
        return "one-at-a-time", {}
    confirmation = ask(state.ctx, state.mlist, action, email=state.sender, target=target,
                       name=name, language=state.language, memo=memo)
    if state.proven and action != "join":  # joining always asks: consent to receive mail
        state.carry_out_now(confirmation)
        return f"done-{action}", {"target": target}
    state.token = confirmation.token
    return f"confirm-{action}", {"target": target}


def _whose(state: Requester, request: Request) -> Member | Outcome:
    """The member a setting is changed for: the sender, or (moderators only) another."""
    who = str(request.args.get("who", "") or state.sender)
    if who == state.sender:
        return state.member if state.member is not None else ("not-member", {})
    if not state.is_moderator:
        return "for-other", {"target": state.ctx.outbox.name_of(state.mlist, who)}
    other = state.ctx.stores.members.get(state.mlist.name, who)
    return other if other is not None else ("not-member-other", {"target": who})


def _nomail(state: Requester, request: Request) -> Outcome:
    member = _whose(state, request)
    if not isinstance(member, Member):
        return member
    member.nomail = request.action == "nomail"
    if request.action == "mail" and member.suspended_at is not None:
        # writing in proves the address works
        resume(state.ctx, state.mlist, member, why="member", tell_member=False)
    return request.action, _for_other(state, member)


def _for_other(state: Requester, member: Member) -> dict[str, object]:
    if member.email == state.sender:
        return {}
    return {"other": state.ctx.outbox.name_of(state.mlist, member.email)}


def _language(state: Requester, request: Request) -> Outcome:
    said = request.args.get("language") or (request.words[0] if request.words else "")
    wanted = _LANGUAGE_WORDS.get(fold(str(said)))
    if wanted is None:
        return "language-unknown", {"choices": ", ".join(LANGUAGES)}
    member = _whose(state, request)
    if not isinstance(member, Member):
        return member
    member.language = wanted
    if member.email == state.sender:
        state.language = wanted
    return "language", {"language": wanted, **_for_other(state, member)}


def _members(state: Requester, request: Request) -> Outcome:
    allowed = state.is_moderator or (
        state.member is not None and state.mlist.rules.membership.members_can_list)
    if not allowed:
        return "not-allowed", {}
    roster = state.ctx.stores.members.roster(state.mlist.name)
    return "members", {"members": roster, "count": len(roster)}


def _add_or_remove(state: Requester, request: Request) -> Outcome:
    if not state.is_moderator:
        return "not-allowed", {}
    words = request.words or ((str(request.args["who"]),) if "who" in request.args else ())
    if not words:
        return "missing-address", {}
    try:
        target = validate_email(words[0].strip("<>,;"),
                                check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return "bad-address", {"address": words[0]}
    existing = state.ctx.stores.members.get(state.mlist.name, target)
    if request.action == "add" and existing is not None:
        return "already-member-other", {"target": target}
    if request.action == "remove" and existing is None:
        return "not-member-other", {"target": target}
    name = " ".join(words[1:]).strip("\"'")
    return _confirm(state, request.action, target, name)


_DIGEST_WORDS = {
    "daily": "daily", "quotidien": "daily", "jour": "daily", "journalier": "daily",
    "weekly": "weekly", "hebdomadaire": "weekly", "semaine": "weekly", "hebdo": "weekly",
    "off": "each", "non": "each", "no": "each", "none": "each", "aucun": "each",
    "each": "each", "mime": "mime", "text": "text", "texte": "text",
}


def _digest(state: Requester, request: Request) -> Outcome:
    """digest daily|weekly|off|mime|text — résumé quotidien|hebdomadaire|non|mime|texte,
    or a sentence the reader gave a mode."""
    member = _whose(state, request)
    if not isinstance(member, Member):
        return member
    mode = request.args.get("mode")
    typed = _DIGEST_WORDS.get(fold(request.words[0]) if request.words else "")
    choice = {"off": "each"}.get(str(mode), str(mode)) if mode else typed
    if choice is None:
        return "digest-usage", {}
    if choice in ("mime", "text"):
        member.digest_format = choice
        return "digest-format", {"format": choice}
    if choice != "each" and member.delivery not in DIGEST_MODES:
        # What came before was received as it came. A post stamped with this very instant
        # may follow the switch: start just before it, so such a post is never lost
        # (at worst seen twice).
        member.digest_through = state.ctx.now - timedelta(microseconds=1)
    elif choice == "each" and member.delivery in DIGEST_MODES:
        send_last(state.ctx, state.mlist, member)  # nothing pending is lost
    member.delivery = choice
    return "digest-mode", {"mode": choice, **_for_other(state, member)}


HANDLERS = {
    "help": _help, "join": _join, "leave": _leave, "nomail": _nomail, "mail": _nomail,
    "language": _language, "members": _members, "add": _add_or_remove, "digest": _digest,
    "remove": _add_or_remove,
}
