"""What a request reader needs, gathered for `mailbot.reading.requests.read_requests`: the
message as said (`said_of`, with the proposal whose thread it replies into) and what the
list knows (`known_of`: roster, open proposals, renewable offers and requests). Reads only;
the request handler and `mailbot explain` share it:

    read_requests(said_of(msg, role, mlist, mail_from, thread_proposal(stores, mlist, msg)),
                  known_of(stores, mlist, separator))
"""

from dataclasses import replace
from email.message import Message

from mailbot.config import ListConfig
from mailbot.config.addresses import address_for
from mailbot.reading.message import author, header, readable_text
from mailbot.reading.requests import Known, Later, OpenItem, OpenProposal, Person, Roster, Said
from mailbot.storage.stores import Stores

_ROLES = ("post", "request", "owner", "bounces")
# The token of a request passed on from the list address to the request address (a member
# wrote to everyone what was meant for the robot): its answer says where such mail goes.
FROM_THE_LIST = "from-list"


def known_of(stores: Stores, mlist: ListConfig, separator: str) -> Known:
    rules = mlist.rules.exchange
    return Known(
        roster=Roster(
            lambda: (Person(email, name) for email, name in stores.members.names(mlist.name)),
            has=lambda email: stores.members.get(mlist.name, email) is not None,
            nonempty=lambda: stores.members.any_on(mlist.name)),
        proposals=Later(lambda: (OpenProposal(p.number, p.title, p.proposer)
                                 for p in stores.proposals.still_open(mlist.name))),
        items=Later(lambda: (OpenItem(i.number, i.kind, i.title, i.author,
                                      f"{i.category}\n{i.text}", i.status == "active")
                             for i in stores.items.renewable(mlist.name))),
        moderators=mlist.moderators, points_per_hour=rules.points_per_hour, unit=rules.unit,
        list_addresses=tuple(address_for(mlist, separator, role) for role in _ROLES))


def known_for_long(stores: Stores, mlist: ListConfig, separator: str) -> Known:
    """`known_of` read now: for a caller that keeps it past the session (`mailbot
    explain`, for file after file)."""
    known = known_of(stores, mlist, separator)
    return replace(known, roster=tuple(known.roster), proposals=tuple(known.proposals),
                   items=tuple(known.items))


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


# What the reader reads of a message's text. A request or a stance is said in the first
# lines; reading costs time in proportion to the text (some 10 s of CPU a megabyte), and a
# post may be a 5 MB report: past this, it would hold up every message behind it.
READ_AT_MOST = 32_000  # characters


def said_of(msg: Message, role: str, mlist: ListConfig, mail_from: str,
            thread: int | None) -> Said:
    """The message as the reader takes it: subject, readable text (quotes included; its
    first `READ_AT_MOST` characters), the role of the address it came to, its writer, the
    thread's proposal, the prefix."""
    sender, name = author(msg, mail_from)
    prefix = mlist.rules.posting.subject_prefix.format(list=mlist.name)
    text = readable_text(msg)[:READ_AT_MOST]
    return Said(header(msg, "Subject"), text, role, sender, name, thread, prefix)
