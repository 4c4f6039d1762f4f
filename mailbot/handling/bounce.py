"""Mail to `list-bounces[+TOKEN]@`: read the report, and count what it says against the
member it names (the VERP token, else the addresses it reports). Never answered."""

from email.message import EmailMessage

from mailbot.bounces.tracking import mark_away, members_named, record_failure
from mailbot.config import ListConfig
from mailbot.outbound.context import Context
from mailbot.reading.bounces import BounceReport, diagnostic, read_returned
from mailbot.reading.message import automatic_kind
from mailbot.storage.messages import InboundMessage

NOT_BOUNCES = {"success": "a success notice", "complaint": "a complaint (ARF) report",
               "auto-reply": "an auto-reply"}


def handle_bounce(ctx: Context, mlist: ListConfig, row: InboundMessage,
                  msg: EmailMessage) -> None:
    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    report = read_returned(row.raw, automatic)
    addresses = report.permanent | report.temporary
    row.kind = "bounce"
    if report.kind in NOT_BOUNCES:
        if report.kind == "auto-reply":
            mark_away(ctx, mlist, members_named(ctx, mlist, row.token, addresses))
        row.kind = "auto-reply" if report.kind == "auto-reply" else "bounce"
        row.outcome = f"ignored: {NOT_BOUNCES[report.kind]} is not a bounce"
        return
    permanent = _is_permanent(report, bool(row.token), automatic)
    if permanent is None:
        row.outcome = "ignored: not a delivery failure"
        return
    named = members_named(ctx, mlist, row.token, addresses)
    if not named:
        row.outcome = "ignored: names no member of the list"
        return
    detail = diagnostic(row.raw) or ", ".join(sorted(addresses)) or "an unrecognised report"
    for member, is_probe in named:
        record_failure(ctx, mlist, member, permanent=permanent, source="dsn",
                       detail=detail, inbound_id=row.id, is_probe=is_probe)
    kind = "permanent" if permanent else "temporary"
    row.outcome = f"{kind} failure for " + ", ".join(m.email for m, _ in named)


def _is_permanent(report: BounceReport, verp: bool, automatic: str | None) -> bool | None:
    """True/False for a permanent/temporary failure; None when it is no failure at all.

    A report no reader understands, from a mail system (null sender, MAILER-DAEMON, a
    multipart/report) to a member's own VERP address, is recorded as a temporary failure:
    it may be a delay warning, and a member is never suspended on a guess."""
    if report.kind == "failure":
        return True
    if report.kind == "delay":
        return False
    return False if verp and automatic == "bounce" else None
