"""What a list knows that a request's words are resolved against (the roster, the open
proposals, the offers and requests still renewable), gathered from the stores as data for
`mailbot.reading.requests`; and the proposal whose thread a message replies into. Reads
only: the request handler and `mailbot explain` share it.
"""

from email.message import Message

from mailbot.config import ListConfig
from mailbot.config.addresses import address_for
from mailbot.reading.message import header
from mailbot.reading.requests import Known, OpenItem, OpenProposal, Person
from mailbot.storage.stores import Stores

_ROLES = ("post", "request", "owner", "bounces")


def known_of(stores: Stores, mlist: ListConfig, separator: str) -> Known:
    rules = mlist.rules.exchange
    return Known(
        roster=tuple(Person(m.email, m.name) for m in stores.members.roster(mlist.name)),
        proposals=tuple(OpenProposal(p.number, p.title, p.proposer)
                        for p in stores.proposals.still_open(mlist.name)),
        items=tuple(OpenItem(i.number, i.kind, i.title, i.author,
                             f"{i.category}\n{i.text}", i.status == "active")
                    for i in stores.items.renewable(mlist.name)),
        moderators=mlist.moderators, points_per_hour=rules.points_per_hour, unit=rules.unit,
        list_addresses=tuple(address_for(mlist, separator, role) for role in _ROLES))


def nothing_known(mlist: ListConfig, separator: str) -> Known:
    """A list whose database is not there (yet): names and numbers resolve to nothing."""
    rules = mlist.rules.exchange
    return Known(moderators=mlist.moderators, points_per_hour=rules.points_per_hour,
                 unit=rules.unit,
                 list_addresses=tuple(address_for(mlist, separator, role) for role in _ROLES))


def thread_proposal(stores: Stores, mlist: ListConfig, msg: Message) -> int | None:
    """The number of the proposal whose thread the message's In-Reply-To/References name."""
    ids = f"{header(msg, 'In-Reply-To')} {header(msg, 'References')}".split()
    ids = [i for i in ids if i.startswith("<") and i.endswith(">")]
    if not ids:
        return None
    found = stores.proposals.by_refs(mlist.name, ids)
    return found.number if found is not None else None
