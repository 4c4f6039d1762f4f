"""RFC 8058 one-click unsubscribe, member by member.

A list copy is stored once for all its readers; with VERP (`outbound.verp`) each reader
gets a transaction of their own, so just before sending, that copy's `List-Unsubscribe`
is made theirs: a link to the `[http]` endpoint with a token signed for this list and
this member, `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and still the mailto:
to list-request@. Copies shared by several readers (VERP off) keep what the list put in
them (the mailto:, or the list's own `unsubscribe_url`): one link cannot name everyone.
"""

from dataclasses import replace

from mailbot.config import Config, HttpConfig
from mailbot.config.addresses import address_for, resolve
from mailbot.core.signed import member_token
from mailbot.storage.deliveries import Job

_OURS = (b"list-unsubscribe", b"list-unsubscribe-post")


def unsubscribe_url(http: HttpConfig, list_name: str, email: str) -> str:
    """The member's own one-click link."""
    return f"{http.base_url}/unsubscribe/{member_token(http.secret, list_name, email)}"


def personalize(config: Config, jobs: list[Job]) -> list[Job]:
    """Each job to one member by its own VERP envelope, with that member's link."""
    if config.http is None:
        return jobs
    return [_personal(config, config.http, job) for job in jobs]


def _personal(config: Config, http: HttpConfig, job: Job) -> Job:
    found = resolve(job.envelope_from, config.lists, config.server.separator)
    if found is None or found.role != "bounces" or not found.token:
        return job  # not a copy of its own: shared by a batch, or not a list copy
    head, sep, body = _split(job.raw)
    fields = _fields(head)
    if not any(_name(f) == b"list-unsubscribe" for f in fields):
        return job  # a message the bot wrote to one person: no list headers
    request = address_for(found.mlist, config.server.separator, "request")
    url = unsubscribe_url(http, found.mlist.name, job.rcpt)
    added = (f"List-Unsubscribe: <{url}>,\r\n <mailto:{request}?subject=unsubscribe>\r\n"
             "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n").encode("ascii")
    kept = b"".join(f + b"\r\n" for f in fields if _name(f) not in _OURS)
    return replace(job, raw=kept + added + sep + body)


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """The header block, the blank line, the body (bytes untouched)."""
    found = [(i, s) for s in (b"\r\n\r\n", b"\n\n") if (i := raw.find(s)) >= 0]
    if not found:
        return raw, b"\r\n", b""
    cut, sep = min(found)
    return raw[:cut], b"\r\n", raw[cut + len(sep):]


def _fields(head: bytes) -> list[bytes]:
    fields: list[bytes] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        elif line:
            fields.append(line)
    return fields


def _name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()
