"""Signed member links (RFC 8058 one-click unsubscribe): a token that names a list and a
member, with an HMAC-SHA256 of both under the server's secret. Nothing is stored: the
signature is the proof. Changing a letter of the list or the address breaks it, so a
member's token cannot be forged, nor turned into another member's. Pure.
"""

import base64
import hashlib
import hmac

_PURPOSE = b"mailbot one-click unsubscribe\0"
_MAC_BYTES = 16  # 128 bits: far beyond guessing, and a short URL


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def member_token(secret: bytes, list_name: str, email: str) -> str:
    """The token of one member of one list (the address lowercased)."""
    payload = f"{list_name}\n{email.lower()}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_member_token(secret: bytes, token: str) -> tuple[str, str] | None:
    """(list name, address) when the token is well signed, else None."""
    encoded, dot, signature = token.partition(".")
    if not dot or len(token) > 1000:
        return None
    try:
        payload, mac = _unb64(encoded), _unb64(signature)
        list_name, newline, email = payload.decode("utf-8").partition("\n")
    except (ValueError, UnicodeDecodeError):
        return None
    if not newline or not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    return list_name, email
