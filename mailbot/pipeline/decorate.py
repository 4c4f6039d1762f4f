"""The list's copy of a post: RFC 2369/2919 headers, prefix, Reply-To, From rewriting.

Only the header block is rewritten; the body bytes go out exactly as they came in, so a
post in any charset or MIME shape reaches members unchanged. New headers are encoded and
folded by the standard `email` policy (RFC 2047 for accents).
"""

import functools
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.utils import make_msgid

from mailbot.outbound.headers import ListHeaders, list_headers
from mailbot.reading.text import one_line

_SMTP = policy.SMTP

# Headers the list sets itself, or that must not reach members (RFC 2369, 2919, 5321 §4.4).
_REPLACED = {
    "list-id", "list-post", "list-help", "list-subscribe", "list-unsubscribe",
    "list-unsubscribe-post", "list-archive", "list-owner", "precedence", "subject",
    "return-path", "delivered-to", "x-original-to", "bcc", "errors-to",
}


@dataclass(frozen=True)
class PostHeaders:
    subject: str
    from_name: str
    from_address: str
    reply_to_rule: str  # "list" or "author"
    rewrite_from: bool
    original_reply_to: str
    has_message_id: bool
    # the post's From is missing, several or unreadable (a moderator approved it): the
    # copy names the author read from the envelope instead
    replace_from: bool = False


def split_raw(raw: bytes) -> tuple[list[bytes], bytes]:
    """Header fields (each with its folded continuation lines) and the body bytes."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if not ends:
        head, body = raw, b""
    else:
        cut = min(ends)
        sep = b"\r\n\r\n" if raw.startswith(b"\r\n\r\n", cut) else b"\n\n"
        head, body = raw[:cut], raw[cut + len(sep):]
    fields: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        elif line:
            fields.append(line)
    return fields, body


def _name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


@functools.lru_cache(maxsize=1024)
def _fold(name: str, value: str) -> bytes:
    """A header field as it goes on the wire. Kept: a list's own fields (List-Id, List-Post,
    List-Unsubscribe…) are the same on every post, and the email package's parse and fold
    cost some 40 µs a field."""
    folded: str = _SMTP.header_factory(name, value).fold(policy=_SMTP)
    return folded.encode("ascii")


def build_list_copy(raw: bytes, post: PostHeaders, lst: ListHeaders, hostname: str) -> bytes:
    """The bytes every member receives for this post."""
    fields, body = split_raw(raw)
    replaced = set(_REPLACED)
    if post.rewrite_from:
        replaced |= {"from", "reply-to", "sender"}
    elif post.replace_from:
        replaced |= {"from", "sender"}
    elif post.reply_to_rule == "list":
        replaced.add("reply-to")
    kept = [f + b"\r\n" for f in fields if _name(f) not in replaced]
    if not post.has_message_id:
        kept.append(_fold("Message-ID", make_msgid(domain=hostname)))
    added = _new_headers(post, lst)
    return b"".join(kept) + b"".join(_fold(n, v) for n, v in added) + b"\r\n" + body


def _new_headers(post: PostHeaders, lst: ListHeaders) -> list[tuple[str, str]]:
    from mailbot.reading.subjects import build_subject

    headers = [("Subject", build_subject(one_line(post.subject, 900), lst.prefix))]
    author = str(Address(display_name=one_line(post.from_name), addr_spec=post.from_address))
    if post.replace_from and not post.rewrite_from:
        headers.append(("From", author))
    if post.rewrite_from:
        shown = post.from_name or post.from_address.split("@")[0]
        via = Address(display_name=one_line(f"{shown} via {lst.title}"), addr_spec=lst.post)
        headers.append(("From", str(via)))
        headers.append(("X-Original-From", author))
    the_list = str(Address(display_name=lst.title, addr_spec=lst.post))
    if post.reply_to_rule == "list" and post.rewrite_from:
        # RFC 7960 §4.1.3: the author stays reachable; replies go to the list and to them
        headers.append(("Reply-To", f"{the_list}, {post.original_reply_to or author}"))
    elif post.reply_to_rule == "list":
        headers.append(("Reply-To", the_list))
    elif post.rewrite_from:
        headers.append(("Reply-To", post.original_reply_to or author))
    return headers + list_headers(lst)
