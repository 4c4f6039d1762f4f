"""The stages a post passes on its way to the members, in order, each a pure function.

    authorize   who may post: go on, hold for a moderator, or refuse (too large)
    message-id  the post gets a Message-ID of its own if it came without one
    dmarc       whether From must be rewritten (rules, and the author's DMARC policy,
                looked up before the transaction)
    (hooks)     what a post causes, in the order distribute.py declares: a proposal opened,
                an exchange item recorded. Not pure: they are not stages.
    block       a proposal's block on top of the text, in each reader's language
    decorate    the list's copy: subject prefix once, Reply-To, From, RFC 2369/2919 headers
    (fan-out)   distribute.py queues each copy through the outbox.

Every stage takes the Post (what was read before: message, list, author, policy) and the
Draft so far, and returns the next Draft; authorize may end the way with a Verdict.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import make_msgid

from mailbot.config import ListConfig
from mailbot.outbound.headers import ListHeaders
from mailbot.pipeline.authorize import ACCEPT, Verdict, decide_post
from mailbot.pipeline.block import add_block
from mailbot.pipeline.decorate import PostHeaders, build_list_copy
from mailbot.reading.message import has_message_id, header, parse
from mailbot.reading.requests import Request


@dataclass(frozen=True)
class Post:
    """What the stages know of a post, all read before they run."""

    raw: bytes
    msg: EmailMessage
    mlist: ListConfig
    author: str  # lowercased address
    author_name: str
    is_member: bool
    is_moderator: bool
    post_count: int
    automatic: bool  # written by a program (but not a loop, bounce or auto-reply)
    size: int
    strict_dmarc: bool  # the author's domain asks receivers to refuse or bin forgeries
    hostname: str
    list_headers: ListHeaders
    approved: bool = False  # a moderator approved it: authorize lets it through
    # Its From names one readable author (else `author` is the envelope sender's)
    has_author: bool = True
    moderated: bool = False  # the author is under moderation
    posts_today: int = 0  # the author's posts that went out today (the flood brake)
    # What the request reader saw in it (a proposal, an offer, a stance…), if anything:
    # the hooks act on it where the subject has no tag.
    seen: Request | None = None


@dataclass(frozen=True)
class Draft:
    """The post as it will go out, built stage by stage."""

    raw: bytes
    msg: EmailMessage
    verdict: Verdict = ACCEPT
    rewrite_from: bool = False
    block: str = ""  # a proposal's block, for one language's copy


Stage = Callable[[Post, Draft], Draft]


def authorize(post: Post, draft: Draft) -> Draft:
    if post.approved:
        return draft
    rules = post.mlist.rules.posting
    verdict = decide_post(rules, is_member=post.is_member, is_moderator=post.is_moderator,
                          post_count=post.post_count, size=post.size,
                          automatic=post.automatic, has_author=post.has_author,
                          moderated=post.moderated,
                          posts_today=post.posts_today)
    return replace(draft, verdict=verdict)


def give_message_id(post: Post, draft: Draft) -> Draft:
    """So every copy and every reply agree on one Message-ID."""
    if has_message_id(draft.msg):
        return draft
    raw = f"Message-ID: {make_msgid(domain=post.hostname)}\r\n".encode() + draft.raw
    return replace(draft, raw=raw, msg=parse(raw))


def choose_from(post: Post, draft: Draft) -> Draft:
    """RFC 7960 §4.1.3: rewrite From when the rules say always, or say auto and the
    author's domain publishes p=reject or p=quarantine (or could not be asked)."""
    rule = post.mlist.rules.posting.from_rewrite
    return replace(draft, rewrite_from=rule == "always" or (rule == "auto" and
                                                              post.strict_dmarc))


def put_block(post: Post, draft: Draft) -> Draft:
    return replace(draft, raw=add_block(draft.raw, draft.block)) if draft.block else draft


def decorate(post: Post, draft: Draft) -> Draft:
    rules = post.mlist.rules.posting
    headers = PostHeaders(
        subject=header(draft.msg, "Subject"), from_name=post.author_name,
        from_address=post.author, reply_to_rule=rules.reply_to,
        rewrite_from=draft.rewrite_from, original_reply_to=header(draft.msg, "Reply-To"),
        has_message_id=has_message_id(draft.msg), replace_from=not post.has_author)
    return replace(draft, raw=build_list_copy(draft.raw, headers, post.list_headers,
                                              post.hostname))


BEFORE_HOOKS: tuple[tuple[str, Stage], ...] = (
    ("authorize", authorize), ("message-id", give_message_id), ("dmarc", choose_from))
AFTER_HOOKS: tuple[tuple[str, Stage], ...] = (("block", put_block), ("decorate", decorate))


def run(stages: tuple[tuple[str, Stage], ...], post: Post, draft: Draft) -> Draft:
    """Pass the draft through `stages` in order; stop at a verdict other than accept."""
    for _name, stage in stages:
        draft = stage(post, draft)
        if draft.verdict.action != "accept":
            break
    return draft
