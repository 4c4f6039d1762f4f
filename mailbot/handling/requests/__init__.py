"""Mail to `list-request@`: read the commands, carry them out, answer once.

The answer lists each command with what happened, in the member's language. When a
command needs confirming (join, leave, a moderator's add or remove, a payment), the
answer itself is the confirmation request: its Reply-To is the single-use confirm address.
"""

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.handling.requests import decisions, exchange, membership
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.outbound.context import Context
from mailbot.reading.authenticity import is_proven
from mailbot.reading.commands import Command, parse_commands
from mailbot.reading.message import author, automatic_kind, header, readable_text
from mailbot.storage.messages import InboundMessage


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
    member = ctx.stores.members.get(mlist.name, sender)
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
    sent = ctx.outbox.send(mlist, "member/command-reply", state.language, values, to=sender,
                           purpose="reply", reply_token=state.token,
                           in_reply_to=header(msg, "Message-ID"), inbound_id=row.id)
    codes = ", ".join(r.code for r in results) + (" (From proven by DKIM)" if proven else "")
    row.kind, row.outcome = "command", codes + ("" if sent else " (reply rate-limited)")


def run_command(state: Requester, command: Command) -> Result:
    handler = HANDLERS.get(command.verb, _misplaced)
    code, values = handler(state, command)
    return Result(command.line, code, values)


def _misplaced(state: Requester, command: Command) -> Outcome:
    """approve/reject/discard belong in a reply to a held-message notice."""
    return "reply-to-notice", {}


HANDLERS = {**decisions.HANDLERS, **exchange.HANDLERS, **membership.HANDLERS}
