"""Putting a short text block (a proposal's number, deadline, how to object) at the top of
a post, in the reader's language. Pure.

A plain-text post gets the block above its text; any other shape (HTML, attachments,
malformed) is wrapped in multipart/mixed with the block as the first part, so the
original content reaches readers untouched.
"""

from email import message_from_bytes, policy
from email.message import EmailMessage

from mailbot.pipeline.decorate import split_raw

_CONTENT_HEADERS = ("content-type", "content-transfer-encoding", "content-disposition",
                    "mime-version", "content-id", "content-description")


def add_block(raw: bytes, block: str) -> bytes:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    text = _plain_text(msg)
    if text is not None:
        body = EmailMessage(policy=policy.SMTP)
        body.set_content(block.rstrip() + "\n\n" + text, charset="utf-8",
                         cte="quoted-printable")
        return _replace_body(raw, body)
    wrapper = EmailMessage(policy=policy.SMTP)
    wrapper.make_mixed()
    first = EmailMessage(policy=policy.SMTP)
    first.set_content(block, charset="utf-8", cte="quoted-printable")
    wrapper.attach(first)
    wrapper.attach(_as_part(raw))
    return _replace_body(raw, wrapper)


def _plain_text(msg: EmailMessage) -> str | None:
    if msg.is_multipart() or msg.get_content_type() != "text/plain":
        return None
    try:
        content = msg.get_content()
    except (LookupError, UnicodeError, ValueError):
        return None
    return content if isinstance(content, str) else None


def _as_part(raw: bytes) -> EmailMessage:
    """The original message's content (its MIME headers and body) as one part."""
    fields, body = split_raw(raw)
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
            in _CONTENT_HEADERS and not f.lower().startswith(b"mime-version")]
    part = message_from_bytes(b"\r\n".join(kept) + b"\r\n\r\n" + body, policy=policy.SMTP)
    assert isinstance(part, EmailMessage)
    return part


def _replace_body(raw: bytes, content: EmailMessage) -> bytes:
    """The original headers (minus its MIME ones) over `content`'s MIME headers and body."""
    fields, _ = split_raw(raw)
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
            not in _CONTENT_HEADERS]
    new_fields, new_body = split_raw(content.as_bytes(policy=policy.SMTP))
    head = b"".join(f + b"\r\n" for f in kept)
    head += b"MIME-Version: 1.0\r\n"
    head += b"".join(f + b"\r\n" for f in new_fields if not f.lower().startswith(b"mime-version"))
    return head + b"\r\n" + new_body
