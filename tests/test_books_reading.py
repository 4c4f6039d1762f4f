"""Reading the books' requests, pure (issue 19): paper slips typed or in sentences, days,
corrections, yearly statements, the agenda, a buddy acting for a member."""

from datetime import UTC, date, datetime

import pytest

from mailbot.exchange.treasury import slip_day
from mailbot.reading.requests import Known, Person, Said, read_requests
from mailbot.reading.requests.slips import Slip, arrow_slip, find_day, read_slip

ROSTER = Known(roster=(Person("bob@example.net", "Bob Martin"),
                       Person("dave@example.org", "Dave Leroy"),
                       Person("marie@example.com", "Marie Dupont"),
                       Person("marie.l@example.com", "Marie Lenoir"),
                       Person("jeannine.roux@sel.no-email.invalid", "Jeannine Roux")))


@pytest.mark.parametrize(("line", "slip"), [
    ("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage, 12 novembre",
     Slip("bob martin", "dave leroy", 120, "jardinage", "11-12")),
    ("Enregistrer: Marie -> Jean, 1h30, couture",
     Slip("marie", "jean", 90, "couture", "")),
    ("record: Bob => Dave, 90, bread, 2026-11-12", Slip("bob", "dave", 90, "bread",
                                                       "2026-11-12")),
    ("record: Bob → Dave, 12/11/2026, 45 min", Slip("bob", "dave", 45, "", "2026-11-12")),
    ("Merci d'enregistrer 2 h de Bob Martin à Dave Leroy pour le jardinage du 12 novembre",
     Slip("bob martin", "dave leroy", 120, "jardinage", "11-12")),
    ("Please record that Bob Martin paid Dave Leroy 2 hours for gardening on 12 November.",
     Slip("bob martin", "dave leroy", 120, "gardening", "11-12")),
    ("Please record 2 hours from Bob Martin to Dave Leroy for gardening, November 12",
     Slip("bob martin", "dave leroy", 120, "gardening", "11-12")),
    ("Peux-tu enregistrer que Bob a payé une demi-heure à Dave pour une réparation ?",
     Slip("bob", "dave", 30, "reparation ?", "")),
])
def test_slips_typed_and_in_sentences(line: str, slip: Slip) -> None:
    assert read_slip(line) == slip


@pytest.mark.parametrize("line", [
    "Bonjour, je voudrais enregistrer mon offre de jardinage",
    "Pouvez-vous noter mon changement d'adresse de Paris à Lyon ?",  # no amount: talk
    "payer Marie 1h", "Je suis passée de 10h à 12h chez Marie",
])
def test_what_is_not_a_slip(line: str) -> None:
    assert read_slip(line) is None and arrow_slip(line) is None


def test_an_arrow_and_an_amount_are_a_slip_without_a_verb() -> None:
    assert arrow_slip("Bob Martin → Dave Leroy, 2 h, jardinage") == Slip(
        "bob martin", "dave leroy", 120, "jardinage", "")
    assert arrow_slip("Paris → Lyon, en train") is None


@pytest.mark.parametrize(("text", "day"), [
    ("le 12 novembre", "11-12"), ("1er décembre 2026", "2026-12-01"), ("12/11", "11-12"),
    ("November 3rd, 2025", "2025-11-03"), ("2026-02-30", "2026-02-30"), ("demain", ""),
])
def test_days(text: str, day: str) -> None:
    assert find_day(text)[0] == day


@pytest.mark.parametrize(("day", "found"), [
    ("11-12", date(2026, 11, 12)),  # this year: it is past
    ("12-24", date(2025, 12, 24)),  # not yet this year: last year's
    ("2026-02-30", None), ("13-01", None),
])
def test_a_slips_day_is_the_latest_such_day(day: str, found: date | None) -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert slip_day(day, now, "Europe/Paris") == found


def _read(text: str, sender: str = "tresor@example.org") -> list[tuple[str, dict[str, object]]]:
    return [(r.action, r.args) for r in read_requests(Said("", text, sender=sender), ROSTER)]


def test_slips_resolved_against_the_roster() -> None:
    assert _read("enregistrer : Bob Martin → Dave Leroy, 2 h, jardinage") == [
        ("record", {"payer": "bob@example.net", "payee": "dave@example.org",
                    "memo": "jardinage", "points": 120})]
    [(action, args)] = _read("record: Bob → Zoé, 1h")
    assert (action, args["problem"], args["name"]) == ("record", "unknown", "Zoé")
    [(action, args)] = _read("record: Marie → Bob, 1h")
    assert args["problem"] == "ambiguous" and len(args["candidates"]) == 2  # type: ignore


@pytest.mark.parametrize(("text", "found"), [
    ("corriger 12", ("reverse", {"entry": 12})),
    ("correct entry 7", ("reverse", {"entry": 7})),
    ("relevé 2026", ("yearly_statement", {"year": 2026})),
    ("relevé annuel de Bob Martin", ("yearly_statement", {"who": "bob@example.net"})),
    ("statement 2025 dave@example.org", ("yearly_statement", {"year": 2025,
                                                             "who": "dave@example.org"})),
    ("ordre du jour", ("agenda", {})),
    ("Could you send me the agenda for Thursday?", ("agenda", {})),
    ("Pour Jeannine : payer Bob 1h", ("for_member", {
        "who": "bob@example.net", "points": 60, "memo": "",
        "for": "jeannine.roux@sel.no-email.invalid", "act": "pay"})),
    ("relevé", ("statement", {})),  # the everyday statement is untouched
])
def test_books_requests(text: str, found: tuple[str, dict[str, object]]) -> None:
    assert _read(text)[0] == found


def test_pour_info_is_not_acting_for_someone() -> None:
    assert _read("Pour info : je serai absente en mai")[0][0] != "for_member"
    # a member with email named first is not someone a buddy acts for
    assert _read("Pour Bob : payer Dave 1h")[0][0] != "for_member"
