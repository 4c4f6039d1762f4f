"""Which list and role an envelope address is for, and the addresses a list owns.

With separator "-": sel@, sel-request@, sel-owner@, sel-bounces[+TOKEN]@, sel-confirm+TOKEN@.
With "+" (hosted mailboxes): sel+request@, sel+confirm-TOKEN@, sel+bounces-TOKEN@ (one "+"
only, which every host understands; "+TOKEN" is read too). Anything else is not ours.
"""

from dataclasses import dataclass

from mailbot.config import ListConfig

ROLES = ("post", "request", "owner", "bounces", "confirm")


@dataclass(frozen=True)
class Recipient:
    mlist: ListConfig
    role: str
    token: str | None = None


def resolve(address: str, lists: tuple[ListConfig, ...], separator: str) -> Recipient | None:
    """Map an envelope recipient to (list, role, token), or None when it is not ours."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local:
        return None
    local, domain = local.lower(), domain.lower()
    candidates = [m for m in lists if m.domain == domain]
    for mlist in sorted(candidates, key=lambda m: -len(m.name)):  # longest name first
        found = _match(local, mlist, separator)
        if found is not None:
            return found
    return None


def is_own(address: str, lists: tuple[ListConfig, ...], separator: str) -> bool:
    """One of the addresses the bot itself writes from or to: a list, its -request,
    -owner, -bounces (with or without a token) or -confirm address."""
    if resolve(address, lists, separator) is not None:
        return True
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return any(m.domain == domain and local == f"{m.name}{separator}confirm" for m in lists)


def _match(local: str, mlist: ListConfig, separator: str) -> Recipient | None:
    if local == mlist.name:
        return Recipient(mlist, "post")
    if not local.startswith(mlist.name + separator):
        return None
    rest = local[len(mlist.name) + 1 :]
    role, plus, token = rest.partition("+")
    if not plus and separator == "+":  # sel+confirm-TOKEN
        role, plus, token = rest.partition("-")
        if role not in ("confirm", "bounces"):
            role, plus, token = rest, "", ""
    if role in ("request", "owner") and not plus:
        return Recipient(mlist, role)
    if role == "bounces":
        return Recipient(mlist, role, token or None)
    if role == "confirm" and plus and token:
        return Recipient(mlist, role, token)
    return None


def address_for(mlist: ListConfig, separator: str, role: str, token: str | None = None) -> str:
    """The address of one role of a list, e.g. sel-confirm+TOKEN@example.org."""
    local = mlist.name if role == "post" else f"{mlist.name}{separator}{role}"
    if token:
        local = f"{local}{'-' if separator == '+' else '+'}{token}"
    return f"{local}@{mlist.domain}"
