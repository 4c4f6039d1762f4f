"""Whether a message's From is proven: our own MTA's Authentication-Results (RFC 8601).

At the door (`keep_trusted_results`), headers that carry the configured authserv-id are
removed from mail that did not come through our own MTA (SMTP from a peer outside
`server.trusted_relays`), and from mail that did, all but the topmost (RFC 8601 §5: a
forged one can only sit below the one our MTA adds). Only that topmost header is read
then. The From is proven when DMARC passed for its domain, or DKIM passed with a signing
domain aligned with it (RFC 7489 §3.1.1, relaxed). Parsing uses `authres`.
"""

import re
from email.message import Message

import authres  # type: ignore[import-untyped]


def verified_author(msg: Message, author: str, authserv_id: str) -> bool:
    """True when `author` (the From address) is proven by our MTA's verdict."""
    if not authserv_id or "@" not in author:
        return False
    results = _our_results(msg, authserv_id)
    domain = author.rpartition("@")[2].lower()
    return any(_proves(method, result, props, domain) for method, result, props in results)


def _our_results(msg: Message, authserv_id: str) -> list[tuple[str, str, dict[str, str]]]:
    """The results of the topmost header with our authserv-id (none if it is malformed:
    the one below it is never read instead)."""
    for value in msg.get_all("Authentication-Results") or []:
        if authserv_id_of(str(value)) != authserv_id:
            continue
        try:
            parsed = authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + " ".join(str(value).split()))
        except Exception:  # a malformed header proves nothing
            return []
        return [(str(r.method).lower(), str(r.result).lower(),
                 {f"{p.type}.{p.name}".lower(): str(p.value).lower() for p in r.properties})
                for r in parsed.results]
    return []


def _proves(method: str, result: str, props: dict[str, str], domain: str) -> bool:
    if result != "pass":
        return False
    if method == "dmarc":
        return props.get("header.from", "") == domain
    if method == "dkim":
        signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
        if signer.count(".") < 1:  # a bare TLD aligns with nothing
            return False
        return domain == signer or domain.endswith("." + signer)
    return False


def is_proven(msg: Message, author: str, authserv_id: str) -> bool:
    """The same, never raising: a header this module cannot read proves nothing."""
    try:
        return verified_author(msg, author, authserv_id)
    except Exception:
        return False



def authserv_id_of(value: str) -> str:
    """The authserv-id a header value starts with (RFC 8601 §2.2: before the first ";",
    maybe followed by a version), lowercased; comments removed."""
    head = _COMMENT.sub(" ", value.split(";", 1)[0])
    words = head.split()
    return words[0].lower() if words else ""


_COMMENT = re.compile(r"\([^()]*\)")
_FIELD = re.compile(rb"^authentication-results[ \t]*:", re.IGNORECASE)


def keep_trusted_results(raw: bytes, authserv_id: str, *, trusted: bool) -> bytes:
    """`raw` without the Authentication-Results headers that claim our authserv-id
    falsely: all of them when the message did not come through our MTA, all but the
    topmost when it did. Other header fields and the body are left byte for byte."""
    if not authserv_id:
        return raw
    end = _end_of_header(raw)
    kept: list[bytes] = []
    seen_ours = False
    for field in _fields(raw[:end]):
        if _FIELD.match(field):
            value = field.split(b":", 1)[1].decode("utf-8", "replace")
            if authserv_id_of(value) == authserv_id:
                if trusted and not seen_ours:
                    kept.append(field)
                seen_ours = True
                continue
        kept.append(field)
    return b"".join(kept) + raw[end:]


def _end_of_header(raw: bytes) -> int:
    """Where the header section ends: at the start of the empty line (or the end)."""
    match = re.search(rb"(?:^|\n)(\r?\n)", raw)
    return match.start(1) if match else len(raw)


def _fields(head: bytes) -> list[bytes]:
    """The header fields, each with its continuation lines and line ends, as they came."""
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields
