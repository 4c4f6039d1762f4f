"""One round of due work, and when the next is due.

Each round is one transaction: due rows are locked (`FOR UPDATE SKIP LOCKED`) and their
state checked in the transaction that queues what they cause, so several daemons sharing
one PostgreSQL never do the same work twice, and a deadline missed while the daemon was
down is settled at the next round (saying it was late).
"""

from datetime import datetime

from mailbot.bounces import tracking
from mailbot.config import Config
from mailbot.config.rules import DIGEST_MODES
from mailbot.decisions import proposals
from mailbot.digests import delivery
from mailbot.digests.schedule import next_digest_at
from mailbot.exchange import items
from mailbot.letters import monthly
from mailbot.lists import moderating
from mailbot.outbound.context import Context
from mailbot.storage.stores import Stores


def run_due(ctx: Context, running_since: datetime | None) -> int:
    """Settle the proposals whose deadline has come (first: digests show what it
    settled), renew or expire items, send reminders and probes, free members whose
    moderation is over, send the moderators' daily summaries; how many were done."""
    settled = proposals.settle_due(ctx, running_since)
    renewed = items.renew_or_expire_due(ctx)
    freed = moderating.lift_due(ctx)  # before the summary, which then tells of it
    return (settled + renewed + proposals.remind_due(ctx) + tracking.run_due(ctx) + freed
            + moderating.send_summaries_due(ctx) + monthly.send_due(ctx))


def send_digests(ctx: Context, posts: delivery.Posts, *, everything_until: datetime | None,
                 list_name: str | None) -> delivery.Round:
    """One round of due digests (or of every digest with news, up to `everything_until`)."""
    return delivery.send_due(ctx, posts=posts, limit=delivery.CHUNK,
                             everything_until=everything_until, list_name=list_name)


def next_due(stores: Stores, config: Config, now: datetime) -> datetime | None:
    """The next moment after `now` when a deadline falls, a reminder or a digest is due."""
    due = proposals.next_timer(
        stores.proposals.upcoming([m.name for m in config.lists]),
        lambda name, deadline: proposals.reminder_time(config, name, deadline), now)
    digests = [next_digest_at(mode, m.rules.digest, config.server.timezone, now)
               for m in config.lists for mode in DIGEST_MODES]
    summary = moderating.next_summary_at(config.lists, config.server.timezone, now)
    freed = stores.log.next_moderation_end(now)
    return min([t for t in (due, *digests, summary, freed) if t is not None], default=None)
