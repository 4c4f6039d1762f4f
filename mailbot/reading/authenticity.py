"""Whether a message's From is proven: our own MTA's Authentication-Results (RFC 8601).

Only the header nearest to us that carries the configured authserv-id is read (RFC 8601
§5: that MTA removes any such header coming from outside, so a forged one can only sit
below it). The From is proven when DMARC passed for its domain, or DKIM passed with a
signing domain aligned with it (RFC 7489 §3.1.1, relaxed). Parsing uses `authres`.
"""

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
    for value in msg.get_all("Authentication-Results") or []:
        try:
            parsed = authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + " ".join(str(value).split()))
        except Exception:  # a malformed header proves nothing
            continue
        if str(parsed.authserv_id).lower() != authserv_id:
            continue
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

