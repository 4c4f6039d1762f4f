"""DKIM signing keys (RFC 6376), as the config names them: a selector, a signing domain
(d=) and a PEM private key file, read and checked once when the config is loaded, so a
missing or unreadable key is one clear line at `mailbot check` and at start.

`[dkim]` holds the server-wide choice (d= is then each list's own domain unless `domain`
says otherwise); a list's `[list.dkim]` table overrides any of its keys.
"""

import base64
from dataclasses import dataclass, field
from pathlib import Path

# dkimpy and cryptography are imported by the functions that need them: a config with no
# [dkim] never loads them.

KEYS = ("selector", "key_file", "domain")


@dataclass(frozen=True)
class DkimKey:
    """How one list's mail is signed: s=`selector`, d=`domain`, with the key in `key_file`."""

    selector: str
    domain: str
    key_file: Path
    key: bytes = field(repr=False)


def read_key(path: Path) -> bytes:
    """The PEM bytes of an RSA private key; ValueError saying what is wrong with the file
    (OSError when it cannot be read at all)."""
    from dkim.crypto import parse_pem_private_key

    data = path.read_bytes()
    try:
        parse_pem_private_key(data)
    except Exception as exc:  # dkimpy's ASN.1 reader raises more than UnparsableKeyError
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{path} is not a PEM RSA private key ({why}); "
                         "make one with `mailbot dkim keygen`") from None
    return data


def generate_key(bits: int = 2048) -> bytes:
    """A new RSA private key, PEM (PKCS#1, which every DKIM signer reads). RFC 8301 §3.2:
    at least 1024 bits, 2048 recommended."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return private.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())


def dns_record(selector: str, domain: str, key: bytes) -> str:
    """The TXT record that publishes the public half of `key` (RFC 6376 §3.6.1)."""
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(key, password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    value = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
    return f'{selector}._domainkey.{domain.rstrip(".")}. IN TXT "{value}"'
