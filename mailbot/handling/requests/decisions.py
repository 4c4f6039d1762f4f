"""Decision commands to list-request@: proposals, decisions [YEAR], withdraw N,
extend N DURATION (French: propositions, décisions, retirer, prolonger)."""

from typing import Any

from mailbot.core.durations import parse_duration
from mailbot.decisions import lifecycle
from mailbot.decisions.proposals import describe, take_stance, tell_list
from mailbot.handling.requests.requester import Outcome, Requester, number_of
from mailbot.outbound.dates import format_date
from mailbot.reading.requests import Request
from mailbot.storage.proposals import Proposal


def list_proposals(state: Requester, request: Request) -> Outcome:
    if state.member is None and not state.is_moderator:
        return "not-member", {}
    rows = state.ctx.stores.proposals.still_open(state.mlist.name)
    objections = state.ctx.stores.proposals.standing_objections([p.id for p in rows])
    items = [{**describe(state.ctx, state.mlist, p, state.language),
              "objections": len(objections[p.id])} for p in rows]
    return "proposals", {"proposals": items}


def list_decisions(state: Requester, request: Request) -> Outcome:
    """The register of adopted decisions, optionally for one year."""
    if state.member is None and not state.is_moderator:
        return "not-member", {}
    year = request.args.get("year")
    if not isinstance(year, int):
        words = request.words
        year = int(words[0]) if words and words[0].isdigit() else None
    rows = state.ctx.stores.proposals.adopted(state.mlist.name, year)
    timezone = state.ctx.config.server.timezone
    items = [{"number": p.number, "title": p.title,
              "date": format_date(p.settled_at or p.deadline, timezone, state.language)}
             for p in rows]
    return "decisions", {"decisions": items, "year": year}


def withdraw(state: Requester, request: Request) -> Outcome:
    found = _own_open_proposal(state, request)
    if isinstance(found, tuple):
        return found
    found.status, found.settled_at = lifecycle.WITHDRAWN, state.ctx.now
    tell_list(state.ctx, state.mlist, found, "list/proposal-changed",
              {"change": "withdrawn", "by": state.name or state.sender})
    return "withdrawn", describe(state.ctx, state.mlist, found, state.language)


def extend(state: Requester, request: Request) -> Outcome:
    said = request.args.get("duration") or (request.words[-1] if len(request.words) >= 2
                                            else "")
    try:
        by = parse_duration(str(said)) if said else None
    except ValueError:
        by = None
    if by is None:
        return "extend-usage", {}
    found = _own_open_proposal(state, request)
    if isinstance(found, tuple):
        return found
    found.deadline = lifecycle.extended(found.deadline, by, state.ctx.now)
    if found.deadline - state.mlist.rules.consent.reminder_before > state.ctx.now:
        found.reminded_at = None  # the new deadline gets its own reminder
    tell_list(state.ctx, state.mlist, found, "list/proposal-changed",
              {"change": "extended", "by": state.name or state.sender})
    return "extended", describe(state.ctx, state.mlist, found, state.language)


def _own_open_proposal(state: Requester, request: Request) -> Proposal | Outcome:
    """The open proposal N named by the request, if the sender may change it."""
    number = number_of(request, "proposal")
    if number is None:
        return "proposal-usage", {}
    proposal = state.ctx.stores.proposals.by_number(state.mlist.name, number)
    values: dict[str, Any] = {"number": number}
    if proposal is None:
        return "no-such-proposal", values
    if proposal.proposer != state.sender and not state.is_moderator:
        return "not-yours", values
    if proposal.status != lifecycle.OPEN:
        return "not-open", {**values, "status": proposal.status}
    return proposal


def stance(state: Requester, request: Request) -> Outcome:
    """An objection or support sent to the robot (or to the list, about a proposal found
    only by its words: a reply to a digest): recorded, not posted."""
    number = number_of(request, "proposal")
    if number is None:
        return "proposal-usage", {}
    if state.member is None and not state.is_moderator:
        return "not-member", {}
    proposal = state.ctx.stores.proposals.by_number(state.mlist.name, number)
    if proposal is None:
        return "no-such-proposal", {"number": number}
    kind = "objection" if request.action == "object" else "support"
    code = take_stance(state.ctx, proposal, state.sender, kind, request.line)
    return f"stance-{code}", describe(state.ctx, state.mlist, proposal, state.language)


HANDLERS = {"proposals": list_proposals, "decisions": list_decisions,
            "withdraw": withdraw, "extend": extend, "object": stance, "support": stance}
