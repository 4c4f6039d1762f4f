"""Mail to `list-request@`: read the commands, carry them out, answer once.

The answer lists each command with what happened, in the member's language. When a
command needs confirming (join, leave, a moderator's add or remove), the answer itself is
the confirmation request: its Reply-To is the single-use confirm address.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from email_validator import EmailNotValidError, validate_email

from mailbot.config import LANGUAGES, ListConfig
from mailbot.context import Context
from mailbot.decisions import commands as decision_commands
from mailbot.digest_delivery import send_last
from mailbot.digests import DIGEST_MODES
from mailbot.exchange import commands as exchange_commands
from mailbot.lists.confirmations import request_confirmation
from mailbot.lists.membership import get_member, list_members
from mailbot.lists.requester import Outcome, Requester
from mailbot.reading.authenticity import is_proven
from mailbot.reading.commands import Command, parse_commands
from mailbot.reading.message import author, automatic_kind, header, readable_text
from mailbot.reading.text import fold
from mailbot.storage.models import InboundMessage

_LANGUAGE_WORDS = {"fr": "fr", "francais": "fr", "french": "fr",
                   "en": "en", "english": "en", "anglais": "en"}


@dataclass
class Result:
    """One command and what came of it; `code` picks the sentence in the template."""

    line: str
    code: str
    values: dict[str, Any] = field(default_factory=dict)


def handle_request(ctx: Context, mlist: ListConfig, row: InboundMessage,
                   msg: EmailMessage) -> None:
    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    if automatic is not None:
        row.kind, row.outcome = automatic, "ignored: automatic mail is never answered"
        return
    sender, name = author(msg, row.mail_from)
    rules = mlist.rules.abuse
    reading = parse_commands(header(msg, "Subject"), readable_text(msg),
                             max_unknown=rules.max_unknown_lines,
                             max_commands=rules.max_commands)
    member = get_member(ctx.session, mlist.name, sender)
    # SPEC: a member is answered in their language (default: the list's); a stranger in the
    # language of the command word they used.
    if member is not None:
        language = member.language or mlist.language
    else:
        language = reading.language or mlist.language
    proven = is_proven(msg, sender, ctx.config.server.authserv_id)
    state = Requester(ctx, mlist, sender, name, member, language, inbound=row, msg=msg,
                      proven=proven)
    results = [run_command(state, command) for command in reading.commands]
    if not results:
        results.append(Result("", "nothing"))
    values = {"results": results, "unknown": reading.unknown,
              "stopped_early": reading.stopped_early, "confirm": state.token is not None}
    sent = ctx.send(mlist, "member/command-reply", state.language, values, to=sender,
                    purpose="reply", reply_token=state.token,
                    in_reply_to=header(msg, "Message-ID"), inbound=row)
    codes = ", ".join(r.code for r in results) + (" (From proven by DKIM)" if proven else "")
    row.kind, row.outcome = "command", codes + ("" if sent else " (reply rate-limited)")


def run_command(state: Requester, command: Command) -> Result:
    handler = _HANDLERS.get(command.verb, _misplaced)
    code, values = handler(state, command)
    return Result(command.line, code, values)


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
    confirmation = request_confirmation(state.ctx, state.mlist, action, email=state.sender,
                                        target=target, name=name, language=state.language)
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
        from mailbot.bounces.handling import resume  # writing in proves the address works

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
    roster = list_members(state.ctx.session, state.mlist.name)
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
    existing = get_member(state.ctx.session, state.mlist.name, target)
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


def _misplaced(state: Requester, command: Command) -> Outcome:
    """approve/reject/discard belong in a reply to a held-message notice."""
    return "reply-to-notice", {}


_HANDLERS = {
    **decision_commands.HANDLERS,
    **exchange_commands.HANDLERS,
    "help": _help, "join": _join, "leave": _leave, "nomail": _nomail, "mail": _nomail,
    "language": _language, "members": _members, "add": _add_or_remove, "digest": _digest,
    "remove": _add_or_remove,
}
