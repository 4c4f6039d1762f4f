"""Membership commands to list-request@: help, join, leave, nomail/mail, language,
members, add, remove, digest (French: aide, inscription, quitter, pause/reprise, langue,
membres, ajouter, supprimer, résumé). Join, leave, add and remove are confirmed by reply."""

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from mailbot.bounces.tracking import resume
from mailbot.config import LANGUAGES
from mailbot.config.rules import DIGEST_MODES
from mailbot.digests.delivery import send_last
from mailbot.handling.actions import ask
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.reading.commands import Command
from mailbot.reading.text import fold

_LANGUAGE_WORDS = {"fr": "fr", "francais": "fr", "french": "fr",
                   "en": "en", "english": "en", "anglais": "en"}


def _help(state: Requester, command: Command) -> Outcome:
    return "help", {}


def _join(state: Requester, command: Command) -> Outcome:
    if state.member is not None:
        return "already-member", {}
    return _confirm(state, "join", state.sender, state.name)


def _leave(state: Requester, command: Command) -> Outcome:
    if state.member is None:
        return "not-member", {}
    return _confirm(state, "leave", state.sender, state.member.name)


def _confirm(state: Requester, action: str, target: str, name: str) -> Outcome:
    if state.token is not None:
        return "one-at-a-time", {}
    confirmation = ask(state.ctx, state.mlist, action, email=state.sender, target=target,
                       name=name, language=state.language)
    if state.proven and action != "join":  # joining always asks: consent to receive mail
        state.carry_out_now(confirmation)
        return f"done-{action}", {"target": target}
    state.token = confirmation.token
    return f"confirm-{action}", {"target": target}


def _nomail(state: Requester, command: Command) -> Outcome:
    if state.member is None:
        return "not-member", {}
    state.member.nomail = command.verb == "nomail"
    if command.verb == "mail" and state.member.suspended_at is not None:
        # writing in proves the address works
        resume(state.ctx, state.mlist, state.member, why="member", tell_member=False)
    return command.verb, {}


def _language(state: Requester, command: Command) -> Outcome:
    wanted = _LANGUAGE_WORDS.get(command.args[0].lower() if command.args else "")
    if wanted is None:
        return "language-unknown", {"choices": ", ".join(LANGUAGES)}
    if state.member is None:
        return "not-member", {}
    state.member.language = state.language = wanted
    return "language", {"language": wanted}


def _members(state: Requester, command: Command) -> Outcome:
    allowed = state.is_moderator or (
        state.member is not None and state.mlist.rules.membership.members_can_list)
    if not allowed:
        return "not-allowed", {}
    roster = state.ctx.stores.members.roster(state.mlist.name)
    return "members", {"members": roster, "count": len(roster)}


def _add_or_remove(state: Requester, command: Command) -> Outcome:
    if not state.is_moderator:
        return "not-allowed", {}
    if not command.args:
        return "missing-address", {}
    try:
        target = validate_email(command.args[0].strip("<>,;"),
                                check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return "bad-address", {"address": command.args[0]}
    existing = state.ctx.stores.members.get(state.mlist.name, target)
    if command.verb == "add" and existing is not None:
        return "already-member-other", {"target": target}
    if command.verb == "remove" and existing is None:
        return "not-member-other", {"target": target}
    name = " ".join(command.args[1:]).strip("\"'")
    return _confirm(state, command.verb, target, name)


_DIGEST_WORDS = {
    "daily": "daily", "quotidien": "daily", "jour": "daily", "journalier": "daily",
    "weekly": "weekly", "hebdomadaire": "weekly", "semaine": "weekly", "hebdo": "weekly",
    "off": "each", "non": "each", "no": "each", "none": "each", "aucun": "each",
    "each": "each", "mime": "mime", "text": "text", "texte": "text",
}


def _digest(state: Requester, command: Command) -> Outcome:
    """digest daily|weekly|off|mime|text — résumé quotidien|hebdomadaire|non|mime|texte."""
    member = state.member
    if member is None:
        return "not-member", {}
    choice = _DIGEST_WORDS.get(fold(command.args[0]) if command.args else "")
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
    return "digest-mode", {"mode": choice}


HANDLERS = {
    "help": _help, "join": _join, "leave": _leave, "nomail": _nomail, "mail": _nomail,
    "language": _language, "members": _members, "add": _add_or_remove, "digest": _digest,
    "remove": _add_or_remove,
}
