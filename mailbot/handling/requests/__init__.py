"""Mail to `list-request@`: read the requests (typed commands or sentences, French or
English), carry them out, answer once.

The answer lists each request with what happened, in the member's language. When one
needs confirming (join, leave, a moderator's add or remove, a payment), the answer itself
is the confirmation request: its Reply-To is the single-use confirm address. When the bot
is unsure (two members match a name, no amount), it asks one short question back; a
reply to that question carries the request on.
"""

import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.handling.known import FROM_THE_LIST, known_of, said_of, thread_proposal
from mailbot.handling.requests import archive, books, decisions, exchange, membership, moderation
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.outbound.context import Context
from mailbot.reading.authenticity import is_proven
from mailbot.reading.commands import MODERATOR_VERBS, parse_commands
from mailbot.reading.message import author, automatic_kind, header, usable_from
from mailbot.reading.replies import own_text
from mailbot.reading.requests import Known, Request, Said, read_requests
from mailbot.reading.requests.answers import carry_on, request_of
from mailbot.storage.messages import InboundMessage

_MESSAGE_ID = "<"


@dataclass
class Result:
    """One request and what came of it; `code` picks the sentence in the template."""

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
    if usable_from(msg) is None and ctx.stores.members.get(mlist.name, sender) is None:
        # no From to answer, and an envelope that is no member's: it proves nothing, and
        # answering it could mail a stranger who never wrote
        row.kind, row.outcome = "command", "ignored: no usable From, and no member's envelope"
        return
    said = said_of(msg, "request", mlist, row.mail_from,
                   thread_proposal(ctx.stores, mlist, msg))
    known = known_of(ctx.stores, mlist, ctx.config.server.separator)
    requests = _read(ctx, mlist, sender, msg, said, known)[:mlist.rules.abuse.max_commands]
    member = ctx.stores.members.get(mlist.name, sender)
    # SPEC: a member is answered in their language (default: the list's); a stranger in the
    # language they wrote in.
    said_in = next((r.language for r in requests if r.language), "") or parse_commands(
        said.subject, said.text).language or ""
    if member is not None:
        language = member.language or mlist.language
    else:
        language = said_in or mlist.language
    proven = is_proven(msg, sender, ctx.config.server.authserv_id)
    state = Requester(ctx, mlist, sender, name, member, language, inbound=row, msg=msg,
                      proven=proven)
    results = [run_request(state, r) for r in requests] or [Result("", "nothing")]
    _answer(ctx, mlist, state, results, requests, said, msg, row)


def _read(ctx: Context, mlist: ListConfig, sender: str, msg: EmailMessage, said: Said,
          known: Known) -> list[Request]:
    """The requests of the message; a reply to a question the bot asked carries it on."""
    ids = [i for i in f"{header(msg, 'In-Reply-To')} {header(msg, 'References')}".split()
           if i.startswith(_MESSAGE_ID)]
    question = ctx.stores.confirmations.question_to(mlist.name, sender, ids, ctx.now) \
        if ids else None
    if question is None:
        return read_requests(said, known)
    question.used_at = ctx.now
    return carry_on(request_of(json.loads(question.memo or "{}")), said, known)


def _answer(ctx: Context, mlist: ListConfig, state: Requester, results: list[Result],
            requests: list[Request], said: Said, msg: EmailMessage,
            row: InboundMessage) -> None:
    """One reply for all; a question asked back is kept, keyed by the reply's
    Message-ID, so that the answer to it carries the request on."""
    values = {"results": results, "confirm": state.token is not None,
              "from_list": row.token == FROM_THE_LIST,
              "quoted": _quoted(said), "examples": _examples(ctx, mlist, state.sender)}
    sent = ctx.outbox.send(mlist, "member/command-reply", state.language, values,
                           to=state.sender, purpose="reply", reply_token=state.token,
                           in_reply_to=header(msg, "Message-ID"), inbound_id=row.id,
                           attachments=state.attachments)
    asked = next((r for r, res in zip(requests, results, strict=False)
                  if res.code == "unclear"), None)
    if sent and asked is not None and state.token is None:
        payload = {**asked.as_json(), "language": asked.language, "line": asked.line}
        ctx.stores.confirmations.ask(
            mlist.name, "question", email=state.sender, target=sent, name="",
            language=state.language, now=ctx.now,
            valid_for=mlist.rules.membership.confirm_within,
            memo=json.dumps(payload, ensure_ascii=False))
    codes = ", ".join(r.code for r in results)
    proven = " (From proven by DKIM)" if state.proven else ""
    row.kind, row.outcome = "command", codes + proven + ("" if sent else " (reply rate-limited)")


def _quoted(said: Said) -> str:
    """What the writer said, for an answer that did not understand it: a line or two."""
    own = [line.strip() for line in own_text(said.text).splitlines() if line.strip()]
    first = own[0] if own else said.subject.strip()
    return first[:150] + ("…" if len(first) > 150 else "")


def _examples(ctx: Context, mlist: ListConfig, sender: str) -> dict[str, str]:
    """Real words for the examples of the guide: another member's first name."""
    others = [m.name.split()[0] for m in ctx.stores.members.roster(mlist.name)
              if m.email != sender and m.name.strip()]
    return {"name": others[0] if others else "Marie", "amount": "1h30"}


def run_request(state: Requester, request: Request) -> Result:
    handler = HANDLERS.get(request.action, _misplaced)
    code, values = handler(state, request)
    return Result(request.line, code, values)


def _unclear(state: Requester, request: Request) -> Outcome:
    """The bot asks one short question back (the reader wrote it); when it could not tell
    what was asked at all, it says what it did not understand, with examples."""
    if not request.args:
        return "nothing", {}
    if request.args.get("intent") in MODERATOR_VERBS and not state.is_moderator:
        return "moderators-only", {}
    if request.args.get("intent") == "dispute" and state.member is not None:
        return exchange.dispute(state, request)
    return "unclear", {"ask": request.ask}


def _misplaced(state: Requester, request: Request) -> Outcome:
    """approve/reject/discard belong in a reply to a held-message notice; offers,
    requests and proposals are posts to the list."""
    if request.action in ("approve", "reject", "discard"):
        return "reply-to-notice", {}
    if request.action in ("offer_item", "request_item", "propose"):
        return "post-it", {"kind": request.action}
    return "nothing", {}


HANDLERS = {**archive.HANDLERS, **books.HANDLERS, **decisions.HANDLERS, **exchange.HANDLERS,
            **membership.HANDLERS, **moderation.HANDLERS, "unclear": _unclear}
