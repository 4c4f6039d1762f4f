"""Requests of those who keep the association's books (issue 19), read before the members'
everyday requests: paper slips to record ("enregistrer : Bob → Dave, 2 h, jardinage"), a
correction of an entry ("corriger 12"), a yearly statement ("relevé 2026", "relevé annuel
de Bob Martin"), the meeting's agenda ("ordre du jour", "agenda"). Pure: who may do what
is the handler's business.
"""

import re

from mailbot.reading.spoken import plain

from . import args as read_args
from .intents import ENOUGH, Draft
from .model import Known, Request, Value
from .names import who_is
from .prepare import Prepared, Sentence
from .slips import Slip, arrow_slip, read_slip

_AGENDA = re.compile(r"\b(?:ordre du jour|agenda)\b")
_REVERSE = re.compile(r"^\s*(?:corriger|correction|extourner|contre passer|annuler "
                      r"(?:l'ecriture|l'operation|le n°|la ligne)|reverse|correct)\s*(?:de\s+)?"
                      r"(?:l'ecriture|ecriture|entry|la ligne|n°|no\.?|#)?\s*(?P<n>\d{1,9})\s*$")
_YEARLY = re.compile(r"\b(?:releve|statement|bilan)\s+(?:(?:annuel|yearly|annual)\b|(?:de l'annee|"
                     r"of the year|for the year|pour l'annee|de|for|pour)?\s*(?P<y>20\d\d)\b)|"
                     r"\b(?:yearly|annual) statement\b|\bmon bilan de l'annee\b")


def books_drafts(prepared: Prepared, points_per_hour: int, unit: str) -> list[Draft]:
    """The books' requests of a message to the request address, or [] when it has none."""
    slips = [line for line in prepared.lines if line.strip() and (
        read_slip(line, points_per_hour, unit) or arrow_slip(line, points_per_hour, unit))]
    if slips:
        return [Draft("record", 2 * ENOUGH, Sentence(line.strip(), plain(line), "body"))
                for line in slips]
    for line in [prepared.subject, *prepared.lines][:6]:
        text = plain(line)
        sentence = Sentence(line.strip(), text, "body")
        if _REVERSE.match(text):
            return [Draft("reverse", 2 * ENOUGH, sentence)]
        if _YEARLY.search(text):
            return [Draft("yearly_statement", 2 * ENOUGH, sentence)]
        if _AGENDA.search(text) and len(text.split()) <= 20:
            return [Draft("agenda", 2 * ENOUGH, sentence)]
    return []


def resolve_record(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """A slip with its two members looked up in the roster."""
    line = draft.sentence.text if draft.sentence else ""
    slip = read_slip(line, known.points_per_hour, known.unit) or \
        arrow_slip(line, known.points_per_hour, known.unit)
    if slip is None:
        return Request("record", {"problem": "unreadable"})
    found: dict[str, Value] = {}
    for role, words in (("payer", slip.payer), ("payee", slip.payee)):
        people = who_is(words, known.roster)
        if len(people) != 1:
            problem = "ambiguous" if people else "unknown"
            return Request("record", {"problem": problem, "name": read_args.as_typed(
                line, words), "candidates": tuple(f"{p.name} <{p.email}>" for p in people)})
        found[role] = people[0].email
    return Request("record", {**found, **_rest_of(slip, line)})


def _rest_of(slip: Slip, line: str) -> dict[str, Value]:
    rest: dict[str, Value] = {"memo": read_args.as_typed(line, slip.memo).strip(" ?.!")}
    if slip.points is not None:
        rest["points"] = slip.points
    if slip.day:
        rest["day"] = slip.day
    return rest


def resolve_reverse(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    found = _REVERSE.match(draft.sentence.plain if draft.sentence else "")
    return Request("reverse", {"entry": int(found.group("n"))} if found else {})


def resolve_yearly(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """"relevé 2026", "relevé annuel de Bob Martin", "statement 2025 bob@example.net"."""
    text = draft.sentence.plain if draft.sentence else ""
    found: dict[str, Value] = {}
    year = re.search(r"\b(20\d\d)\b", text)
    if year is not None:
        found["year"] = int(year.group(1))
    addresses = read_args.addresses(text)
    if addresses:
        found["who"] = addresses[0]
        return Request("yearly_statement", found)
    named = re.search(r"\b(?:de|of|for|pour)\s+(?!l'annee|the year|20\d\d)(?P<n>[a-z][\w' .-]+)",
                      text)
    people = who_is(named.group("n"), known.roster) if named else []
    if len(people) == 1 and people[0].email != prepared.said.sender:
        found["who"] = people[0].email
    return Request("yearly_statement", found)


NO_EMAIL = ".invalid"  # the placeholder addresses of members without email (lists/buddies.py)
_FOR_MEMBER = re.compile(r"^\s*(?:pour|for|de la part de|on behalf of)\s+(?P<name>[^:\n]{1,40}?)"
                         r"\s*:\s*(?P<rest>\S.*)$", re.S | re.I)


def for_member(text: str, known: Known) -> tuple[str, str] | None:
    """"pour Jeannine : payer Marie 1h": the member without email named (an address of the
    roster) and what is asked for them; else None ("pour Marie : …" about a member with
    email is read as usual)."""
    found = _FOR_MEMBER.match(text.lstrip())
    if found is None:
        return None
    without_email = [p for p in known.roster if p.email.endswith(NO_EMAIL)]
    people = who_is(found.group("name"), without_email)
    if len(people) != 1:
        return None
    return people[0].email, found.group("rest")
