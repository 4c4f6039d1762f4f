"""The archive by mail: `index` / `sommaire` lists the latest posts (number, date,
author, subject); `get N` / `envoyer N` sends post N back, attached whole (message/rfc822)
to the answer. For members (and moderators) only: the archive is the list's own talk."""

from mailbot.handling.requests.requester import Outcome, Requester, number_of
from mailbot.lists.archive import entry_of, public_copy
from mailbot.outbound.dates import format_date
from mailbot.reading.requests import Request

INDEX_SIZE = 30  # the latest posts an index lists
MOST_ATTACHED = 5  # posts sent back in one answer


def _allowed(state: Requester) -> bool:
    return state.member is not None or state.is_moderator


def index(state: Requester, request: Request) -> Outcome:
    if not _allowed(state):
        return "archive-members-only", {}
    rows = state.ctx.stores.messages.archived(state.mlist.name, INDEX_SIZE)
    if not rows:
        return "archive-empty", {}
    timezone = state.ctx.config.server.timezone
    posts = []
    for row in rows:
        assert row.archive_number is not None and row.distributed_at is not None
        entry = entry_of(row.archive_number, row.raw, row.mail_from, row.distributed_at)
        posts.append({"number": entry.number, "author": entry.author, "subject": entry.subject,
                      "date": format_date(entry.date, timezone, state.language)})
    return "archive-index", {"posts": posts, "latest": posts[-1]["number"]}


def get(state: Requester, request: Request) -> Outcome:
    if not _allowed(state):
        return "archive-members-only", {}
    number = number_of(request, "post")
    if number is None:
        return "archive-usage", {}
    row = state.ctx.stores.messages.archived_post(state.mlist.name, number)
    if row is None:
        return "no-such-post", {"number": number}
    if len(state.attachments) >= MOST_ATTACHED:
        return "archive-too-many", {"number": number, "most": MOST_ATTACHED}
    assert row.distributed_at is not None
    entry = entry_of(number, row.raw, row.mail_from, row.distributed_at)
    state.attachments.append(public_copy(row.raw))
    return "archive-post", {"number": number, "author": entry.author, "subject": entry.subject,
                            "date": format_date(entry.date, state.ctx.config.server.timezone,
                                                state.language)}


HANDLERS = {"index": index, "get": get}
