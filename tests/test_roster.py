"""The roster the request reader is given by the daemon (`Roster`): read whole only when a
message names someone; most posts only ask whether their sender is a member. The open
proposals and items (`Later`) are read only when a message may name one."""

from typing import Any

from sqlalchemy import event

from mailbot.core.clock import FakeClock
from mailbot.handling.known import known_of
from mailbot.reading.requests import (
    Known,
    Later,
    OpenItem,
    OpenProposal,
    Person,
    Roster,
    Said,
    read_requests,
)
from mailbot.service import Service
from mailbot.storage.stores import Stores
from tests.helpers import add_member

PEOPLE = [Person("marie@example.net", "Marie Dupont"), Person("paul@example.net", "Paul Martin")]


class Counted:
    def __init__(self) -> None:
        self.loads, self.asked = 0, list[str]()

    def load(self) -> list[Person]:
        self.loads += 1
        return PEOPLE

    def has(self, email: str) -> bool:
        self.asked.append(email)
        return any(p.email == email.lower() for p in PEOPLE)

    def known(self) -> Known:
        return Known(roster=Roster(self.load, self.has, lambda: True),
                     proposals=Later(self.load_proposals), items=Later(self.load_items))

    def load_proposals(self) -> list[OpenProposal]:
        self.loads += 1
        return PROPOSALS

    def load_items(self) -> list[OpenItem]:
        self.loads += 1
        return ITEMS


PROPOSALS = [OpenProposal(3, "Achat d'une remorque commune", "paul@example.net")]
ITEMS = [OpenItem(7, "offer", "Confitures maison", "marie@example.net", "cuisine\nconfitures")]


def test_a_post_that_names_nobody_reads_no_roster() -> None:
    counted = Counted()
    said = Said("Réunion", "Bonjour à tous,\nla réunion est jeudi à 18 h à la salle.\n",
                "post", "marie@example.net", "Marie Dupont")
    assert read_requests(said, counted.known()) == []
    assert counted.loads == 0 and counted.asked == ["marie@example.net"]


def test_a_payment_to_a_member_named_reads_it_once_and_finds_them() -> None:
    counted = Counted()
    said = Said("paiement", "payer 1h à Paul Martin pour le jardinage\n", "request",
                "marie@example.net", "Marie Dupont")
    [request] = read_requests(said, counted.known())
    assert request.action == "pay" and request.args["who"] == "paul@example.net"
    assert counted.loads == 1


def test_the_lazy_roster_reads_as_the_plain_one() -> None:
    plain = Known(roster=tuple(PEOPLE), proposals=tuple(PROPOSALS), items=tuple(ITEMS))
    for said in [Said("paiement", "payer 1h à Paul\n", "request", "marie@example.net"),
                 Said("hello", "I want to join\n", "request", "someone@else.example"),
                 Said("Re: [sel] [PROPOSITION] Achat d'une remorque commune",
                      "Je suis contre, trop cher.\n", "request", "marie@example.net"),
                 Said("annonce", "vous pouvez retirer mon offre de confitures, je n'en ai plus\n",
                      "request", "marie@example.net")]:
        assert read_requests(said, Counted().known()) == read_requests(said, plain)


def test_a_proposal_or_an_item_named_by_its_words_is_found_among_those_read() -> None:
    counted = Counted()
    withdraw = Said("remorque", "Je retire ma proposition sur la remorque, on en reparlera.\n",
                    "request", "paul@example.net")
    close = Said("annonce", "vous pouvez retirer mon offre de confitures, je n'en ai plus\n",
                 "request", "marie@example.net")
    assert [(r.action, r.args) for r in read_requests(withdraw, counted.known())] == [
        ("withdraw", {"proposal": 3})]
    assert [(r.action, r.args) for r in read_requests(close, counted.known())] == [
        ("close", {"item": 7})]


async def test_the_daemons_roster_asks_its_database(service: Service, clock: FakeClock) -> None:
    """known_of's Roster, on SQLite and PostgreSQL: a member is one, a stranger is not, an
    empty list has no one, and the whole roster is read when asked for."""
    mlist = service.config.get_list("sel")

    def read(session: Any) -> tuple[bool, bool, bool, list[Person]]:
        known = known_of(Stores.of(session), mlist, "-")
        return (known.is_member("Marie@Example.com"), known.is_member("x@example.org"),
                bool(known.roster), list(known.roster))

    assert await service.db.run(read) == (False, False, False, [])
    await service.db.run(add_member, "sel", "marie@example.com", "Marie Dupont", clock.now())
    assert await service.db.run(read) == (
        True, False, True, [Person("marie@example.com", "Marie Dupont")])


async def test_a_plain_post_asks_the_database_only_whether_its_author_is_a_member(
        service: Service, clock: FakeClock) -> None:
    """What the worker's reader asks of the database for a post that names nothing: one
    point read (no roster, no open proposals or items)."""
    mlist = service.config.get_list("sel")
    await service.db.run(add_member, "sel", "marie@example.com", "Marie Dupont", clock.now())
    said = Said("Réunion", "Bonjour à tous,\nla réunion est jeudi à 18 h à la salle.\n",
                "post", "marie@example.com", "Marie Dupont")

    def read(session: Any) -> tuple[list[Any], list[str]]:
        asked: list[str] = []
        event.listen(session.connection(), "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: asked.append(statement))
        return read_requests(said, known_of(Stores.of(session), mlist, "-")), asked

    found, asked = await service.db.run(read)
    assert found == [] and len(asked) == 1 and "FROM member" in asked[0]
