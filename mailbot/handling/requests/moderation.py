"""The moderators' word, by email to list-request@: the charter (anyone may ask for it),
and, for moderators only, putting a member under moderation and freeing them, a private
reminder of the charter, and bans (confirmed by reply) and unbans. What each act does is
in lists/moderating.py."""

from mailbot.handling.actions import ask
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.lists import moderating
from mailbot.reading.requests import Request
from mailbot.storage.members import Member


def _charter(state: Requester, request: Request) -> Outcome:
    if not state.mlist.charter:
        return "no-charter", {}
    return "charter", {"text": state.mlist.charter}


def _who(state: Requester, request: Request) -> str | Outcome:
    """The address a moderator's act is about, or why it cannot be done."""
    if not state.is_moderator:
        return "moderators-only", {}
    who = str(request.args.get("who", "")).lower()
    return who if who else ("member-usage", {"action": request.action})


def _member(state: Requester, request: Request) -> Member | Outcome:
    who = _who(state, request)
    if not isinstance(who, str):
        return who
    member = state.ctx.stores.members.get(state.mlist.name, who)
    return member if member is not None else ("not-member-other", {"target": who})


def _named(state: Requester, member: Member) -> dict[str, object]:
    return {"target": member.name or member.email, "email": member.email}


def _moderate(state: Requester, request: Request) -> Outcome:
    member = _member(state, request)
    if not isinstance(member, Member):
        return member
    if state.mlist.is_moderator(member.email):
        return "not-for-moderators", _named(state, member)
    if not moderating.moderate(state.ctx, state.mlist, member, by=state.sender):
        return "already-moderated", _named(state, member)
    period = state.mlist.rules.moderation.moderated_for
    return "moderated", {**_named(state, member),
                         "days": max(1, round(period.total_seconds() / 86400)) if period else 0}


def _unmoderate(state: Requester, request: Request) -> Outcome:
    member = _member(state, request)
    if not isinstance(member, Member):
        return member
    if not moderating.unmoderate(state.ctx, state.mlist, member, by=state.sender):
        return "not-moderated", _named(state, member)
    return "unmoderated", _named(state, member)


def _remind(state: Requester, request: Request) -> Outcome:
    member = _member(state, request)
    if not isinstance(member, Member):
        return member
    moderating.remind(state.ctx, state.mlist, member, by=state.sender)
    return "reminded", {**_named(state, member), "others": len(state.mlist.moderators) - 1}


def _ban(state: Requester, request: Request) -> Outcome:
    who = _who(state, request)
    if not isinstance(who, str):
        return who
    if state.mlist.is_moderator(who):
        return "not-for-moderators", {"target": who, "email": who}
    if state.ctx.stores.bans.get(state.mlist.name, who) is not None:
        return "already-banned", {"target": who}
    if state.token is not None:
        return "one-at-a-time", {}
    member = state.ctx.stores.members.get(state.mlist.name, who)
    target = (member.name if member else "") or who
    confirmation = ask(state.ctx, state.mlist, "ban", email=state.sender, target=who,
                       name=target, language=state.language)
    if state.proven:
        state.carry_out_now(confirmation)
        return "done-ban", {"target": target}
    state.token = confirmation.token
    return "confirm-ban", {"target": target, "member": member is not None}


def _unban(state: Requester, request: Request) -> Outcome:
    who = _who(state, request)
    if not isinstance(who, str):
        return who
    if not moderating.unban(state.ctx, state.mlist, who, by=state.sender):
        return "not-banned", {"target": who}
    return "unbanned", {"target": who}


HANDLERS = {"charter": _charter, "moderate": _moderate, "unmoderate": _unmoderate,
            "remind": _remind, "ban": _ban, "unban": _unban}
