"""From what a message says to requests the bot can carry out: each action read gets its
arguments resolved against what the list knows (`Known`: roster, open proposals, items),
or becomes a question back ("unclear") when a name fits two members, an amount or a payee
is missing, or a worker declares hours someone else must pay. Pure: the one function the
daemon's request handler and `mailbot explain` both call is `read_requests`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from mailbot.reading.amounts import as_hours, find_amounts
from mailbot.reading.commands import Command, number_arg
from mailbot.reading.items import category_of, item_kind_and_title
from mailbot.reading.proposals import proposal_title
from mailbot.reading.spoken import plain
from mailbot.reading.subjects import without_marks

from . import args as read_args
from . import books
from .asks import ask
from .intents import Draft, language_of
from .lexicon import HOW_TO
from .lexicon_list import PROPOSE_TAG
from .model import Known, Person, Request, Said, Value
from .names import mentions, who_is
from .prepare import Prepared, prepare
from .read import read
from .refs import (
    hold_in_bot_mail,
    item_by_words,
    item_in_bot_mail,
    numbers_named,
    only,
    proposal_by_words,
    proposal_in_bot_mail,
)


@dataclass(frozen=True)
class Reading:
    """What `read_requests` works out of a post before it looks anything up: worked out
    ahead (`read_ahead`, by a worker process while another holds SQLite's one writer) and
    used when the post, as said, and the list's units are still the same."""

    said: Said
    points_per_hour: int
    unit: str
    prepared: Prepared
    language: str  # the writer's, worked out only when there are drafts ("" otherwise)
    drafts: tuple[Draft, ...]


def read_ahead(said: Said, points_per_hour: int = 60, unit: str = "points") -> Reading | None:
    """A post's `Reading` (None for another role: what it asks depends on its writer)."""
    if said.role != "post":
        return None
    prepared = prepare(said)
    drafts = tuple(read(prepared, points_per_hour, False, unit))
    return Reading(said, points_per_hour, unit, prepared,
                   _language(prepared) if drafts else "", drafts)


def read_requests(said: Said, known: Known, ahead: Reading | None = None) -> list[Request]:
    """Every request in one message, its arguments resolved against `known` (`ahead`:
    the post read ahead, used if it is still the same)."""
    if ahead is not None and (ahead.said, ahead.points_per_hour, ahead.unit) == (
            said, known.points_per_hour, known.unit):
        return [resolve(draft, ahead.prepared, known, ahead.language) for draft in ahead.drafts]
    prepared = prepare(said)
    acting = books.for_member(prepared.own, known) if said.role == "request" else None
    if acting is not None:  # a buddy acting for a member without email
        return _for_member(said, known, *acting)
    stranger = not known.is_member(said.sender)
    drafts = read(prepared, known.points_per_hour, stranger and bool(known.roster), known.unit)
    if not drafts:  # most posts: no language to tell (the writer's small words, counted)
        return []
    language = _language(prepared)
    return [resolve(draft, prepared, known, language) for draft in drafts]


def _language(prepared: Prepared) -> str:
    return language_of(f"{prepared.subject}\n{prepared.own}")


def _for_member(said: Said, known: Known, member: str, rest: str) -> list[Request]:
    """"pour Jeannine : payer Marie 1h": what is asked, read as if Jeannine wrote it,
    marked with whom it is for (`for`) and what it is (`act`)."""
    inner = read_requests(replace(said, subject="", text=rest, sender=member), known)
    return [Request("for_member", {**r.args, "for": member, "act": r.action}, r.ask, r.words,
                    r.language, r.line) for r in inner]


def resolve(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """One action read → a Request with its arguments, or a question back."""
    resolver = _RESOLVERS.get(draft.action, _plain_action)
    request = resolver(draft, prepared, known, language or "fr")
    line = draft.sentence.text if draft.sentence else prepared.subject
    return Request(request.action, request.args, request.ask, draft.words, language, line)


Resolver = Callable[[Draft, Prepared, Known, str], Request]


def _text(draft: Draft, prepared: Prepared) -> str:
    """The sentence an action was read in, else all the writer's own words (plain)."""
    if draft.sentence is not None and draft.sentence.where == "body":
        return draft.sentence.plain
    return f"{plain(prepared.subject)} {prepared.body_plain}"


def _plain_action(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    return Request(draft.action)


def _unclear(case: str, language: str, args: dict[str, Value], **values: str) -> Request:
    return Request("unclear", args, ask(case, language, **values))


# --- payments ---------------------------------------------------------------------------------

def _pay(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    text = _text(draft, prepared)
    if draft.typed:
        text = plain(" ".join(("payer", *draft.words)))
    said = read_args.payment(text, known.points_per_hour, known.unit)
    original = draft.sentence.text if draft.sentence else " ".join(draft.words)
    payees, named = _payee(said.payee_words, original, known, prepared.said.sender)
    if said.points is None or not payees:  # "Je voudrais payer Lucien. Il a fait 2 heures."
        said, payees = _elsewhere(draft, prepared, known, said, payees)
    args: dict[str, Value] = {"intent": "pay"}
    if said.points is not None:
        args["points"] = said.points
    if said.memo:  # kept for the question asked back: the answer carries it on
        args["memo"] = read_args.as_typed(original, said.memo)
    if len(payees) > 1:  # two Maries: ask, even if one's offer seems to fit (never pay amiss)
        args["candidates"] = tuple(p.email for p in payees)
        firsts = {p.name.split(" ")[0] for p in payees}
        return _unclear("which", language, args, name=firsts.pop() if len(firsts) == 1 else named,
                        candidates=", ".join(f"{p.name} <{p.email}>" for p in payees))
    if not payees and said.points is None and re.search(HOW_TO, text):
        return Request("help", {"topic": "pay"})
    if not payees:
        myself = [p for p in known.roster if p.email == prepared.said.sender]
        if said.points is not None and any(who_is(w, myself) for w in said.payee_words):
            # "pay Bob 30" from Bob: the ledger says why not
            return Request("pay", {"who": myself[0].email, "points": said.points})
        if named:
            return _unclear("unknown-person", language, args, name=named)
        return _unclear("to-whom", language, args)
    who = payees[0]
    args["who"] = who.email
    if said.points is None:
        return _unclear("how-much", language, args, name=who.name or who.email)
    memo = read_args.as_typed(original, said.memo)
    return Request("pay", {"who": who.email, "points": said.points, "memo": memo})


def _payee(phrases: tuple[str, ...], original: str, known: Known,
           sender: str) -> tuple[list[Person], str]:
    """The members the payee's words fit, and those words; else the first member named in
    the sentence (but the writer), with any other that fits the same words."""
    for phrase in phrases:
        found = who_is(phrase, known.roster, exclude=sender)
        if found:
            return found, phrase
    named = mentions(original, known.roster, exclude=sender)
    if named:
        first = named[0]
        here = [m.person for m in named if (m.start, m.end) == (first.start, first.end)]
        return list(dict.fromkeys(here)), first.person.name.split(" ")[0]
    unknown = phrases[0] if phrases and len(phrases[0].split()) <= 2 else ""
    return [], "" if re.fullmatch(_NOBODY, unknown) else unknown


# Words in a payee's place that name nobody yet ("payer quelqu'un", "pay someone").
_NOBODY = (r"(?:quelqu'un|quelqu un|qqn|une personne|someone|somebody|anyone|him|her|them|lui|"
           r"elle|leur|la personne|the person|mon voisin|ma voisine)?")


def _elsewhere(draft: Draft, prepared: Prepared, known: Known, said: read_args.Payment,
               payees: list[Person]) -> tuple[read_args.Payment, list[Person]]:
    """The amount or the payee a payment's sentence lacks, from the writer's other
    sentences (the nearest first)."""
    others = [s for s in prepared.sentences if s is not draft.sentence]
    if draft.sentence in prepared.sentences:
        here = prepared.sentences.index(draft.sentence)
        others.sort(key=lambda s: abs(prepared.sentences.index(s) - here))
    points = said.points
    for sentence in others:
        if points is None:
            found = [a for a in find_amounts(sentence.plain, known.points_per_hour, known.unit)
                     if not a.bare]
            points = found[0].points if found else None
        if not payees:
            named = mentions(sentence.text, known.roster, exclude=prepared.said.sender)
            here_too = [m.person for m in named if named and m.start == named[0].start]
            payees = list(dict.fromkeys(here_too))
    return read_args.Payment(points, said.payee_words, said.memo), payees


def _claim(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """A worker declares hours done for someone: only that member can pay them."""
    text = _text(draft, prepared)
    said = read_args.payment(text, known.points_per_hour, known.unit)
    original = draft.sentence.text if draft.sentence else text
    named = list(dict.fromkeys(m.person for m in mentions(
        original, known.roster, exclude=prepared.said.sender)))
    args: dict[str, Value] = {"intent": "payment claimed by the payee"}
    if said.points is not None:
        args["points"] = said.points
    payer = named[0] if len(named) == 1 else None
    if payer is not None:
        args["payer_named"] = payer.email
    amount = as_hours(said.points, known.points_per_hour) if said.points else "1h"
    you = prepared.said.sender_name or prepared.said.sender
    return _unclear("claim", language, args, name=payer.name if payer else "?", you=you,
                    amount=amount)


def _dispute(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    return _unclear("dispute", language, {"intent": "dispute"})


# --- membership -------------------------------------------------------------------------------

_FOR_SOMEONE = re.compile(r"\b(?:put|mettre|mettez|passer|passez|inscrire|inscrivez|desinscrire|"
                          r"retirer|retirez|remove|take|sign|switch|move|(?:ma|mon|my) (?:mere|"
                          r"pere|mari|femme|voisine?|fille|fils|soeur|frere|amie?|mother|mum|mom|"
                          r"father|dad|husband|wife|neighbou?r|daughter|son|sister|brother|"
                          r"friend)|(?:fille|fils|mari|femme|voisine?|soeur|frere|amie?) (?:de|d')|"
                          r"(?:daughter|son|husband|wife|neighbou?r|sister|brother|friend) of)\s*$")


def _someone_else(draft: Draft, prepared: Prepared, known: Known) -> Person | None:
    """The member a request is for when the writer asks it for someone else ("Please put
    Bill on the daily digest", "ma mère Odette Garnier")."""
    sender = prepared.said.sender.lower()
    stranger = all(p.email.lower() != sender for p in known.roster)
    for sentence in prepared.sentences:
        words = plain(sentence.text).split()
        for mention in mentions(sentence.text, known.roster, exclude=sender):
            if stranger:  # someone not on the list writes about a member
                return mention.person
            for width in (1, 2, 3):
                before = " ".join(words[max(0, mention.start - width):mention.start])
                if _FOR_SOMEONE.search(before):
                    return mention.person
    return None


def _membership(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    args: dict[str, Value] = {}
    text = _text(draft, prepared)
    if draft.action == "digest":
        mode = (read_args.typed_mode(draft.words) if draft.typed else None) or \
            read_args.digest_mode(text) or read_args.digest_mode(plain(prepared.subject))
        if mode is not None:
            args["mode"] = mode
    if draft.action == "language":
        chosen = read_args.language(text) or read_args.language(plain(" ".join(draft.words)))
        words = [plain(w) for w in draft.words]
        chosen = chosen or next((w for w in words if w in ("fr", "en")), None)
        if chosen is not None:
            args["language"] = chosen
    if draft.action == "join":
        others = [a for a in read_args.addresses(prepared.own)
                  if a != prepared.said.sender.lower() and a not in known.list_addresses]
        if others:
            args["who"] = others[0]
    else:
        other = _someone_else(draft, prepared, known)
        if other is not None:
            args["who"] = other.email
    return Request(draft.action, args)


# --- proposals and items ----------------------------------------------------------------------

def proposal_of(draft: Draft, prepared: Prepared, known: Known) -> int | None:
    """The proposal meant: a number the writer gives, the thread's, the one the bot's quoted
    mail or the subject names, else the one whose title the writer's words recall."""
    said = prepared.said
    here = numbers_named(draft.sentence.plain) if draft.sentence is not None else []
    if here:  # "Pour la 4 je suis d'accord, pour la 5 non": the first one it names
        return here[0]
    if _typed_number(draft) is not None:  # "withdraw 5", "prolonger 2 3d"
        return _typed_number(draft)
    if only(numbers_named(prepared.body_plain)) is not None:
        return only(numbers_named(prepared.body_plain))
    if said.thread_proposal is not None:
        return said.thread_proposal
    subject = plain(prepared.subject)
    found = (proposal_in_bot_mail(subject) or only(numbers_named(subject))
             or proposal_in_bot_mail(prepared.quoted))
    if found is not None:
        return found
    title = proposal_title(said.subject.split(":", 1)[-1], said.list_prefix)
    words = f"{_text(draft, prepared)} {plain(title or '')} {plain(prepared.subject)}"
    return proposal_by_words(words, known.proposals, said.sender) or proposal_by_words(
        f"{words} {prepared.body_plain}", known.proposals, said.sender)


def _typed_number(draft: Draft) -> int | None:
    """The number a typed command gives first ("renouveler 6", "close #5", "retirer n° 3")."""
    return number_arg(Command(draft.action, draft.words, "", "")) if draft.words else None


def _about_proposal(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    number = proposal_of(draft, prepared, known)
    args: dict[str, Value] = {} if number is None else {"proposal": number}
    if draft.action == "extend":
        found = read_args.duration(_text(draft, prepared)) or (
            draft.words[-1] if len(draft.words) >= 2 else None)
        if found:
            args["duration"] = found
    if number is None and draft.action in ("withdraw", "extend"):
        return _unclear("which-proposal", language, {"intent": draft.action, **args})
    return Request(draft.action, args)


def _about_item(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    text = _text(draft, prepared)
    number = only(numbers_named(text)) or _typed_number(draft) or only(
        numbers_named(prepared.body_plain))
    if number is None:
        number = item_in_bot_mail(f"{plain(prepared.said.subject)}\n{prepared.quoted}")
    if number is None:
        number = item_by_words(f"{prepared.body_plain} {plain(prepared.subject)}",
                               known.items, prepared.said.sender)
    if number is None:
        return _unclear("which-item", language, {"intent": draft.action})
    return Request(draft.action, {"item": number})


def _listing(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    args: dict[str, Value] = {}
    category = read_args.category_asked(_text(draft, prepared)) or (
        plain(" ".join(draft.words)) if draft.words else "")
    if category:
        args["category"] = category
    return Request(draft.action, args)


def _decisions(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    year = re.search(r"\b(20\d\d)\b", _text(draft, prepared)) or (
        re.search(r"\b(20\d\d)\b", " ".join(draft.words)))
    return Request("decisions", {"year": int(year.group(1))} if year else {})


_POST_NUMBER = re.compile(r"\b(?:message|mail|courriel|post|envoi)s? (?:n ?°|no\.?|numero|"
                          r"number|#)? ?(\d{1,9})\b|(?:n ?°|numero|number|#) ?(\d{1,9})\b")


def _archived_post(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """`get N`: the post's number, typed or said; without one, the index to choose from."""
    number = _typed_number(draft) if draft.typed else None
    if number is None:
        found = _POST_NUMBER.search(_text(draft, prepared))
        number = int(found.group(1) or found.group(2)) if found else None
    return Request("get", {"post": number}) if number is not None else Request("index")


# --- the list address and moderators ---------------------------------------------------------

def _stance(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    number = proposal_of(draft, prepared, known)
    return Request(draft.action, {} if number is None else {"proposal": number})


def _new_post(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """A proposal, offer or request: its title (the subject without its tag) and category."""
    said = prepared.said
    title = ""
    if draft.action == "propose":
        title = proposal_title(said.subject, said.list_prefix) or ""
    else:
        found = item_kind_and_title(said.subject, said.list_prefix)
        title = found[1] if found else ""
    if not title:
        subject = without_marks(prepared.subject)
        tag = re.match(rf"{PROPOSE_TAG}|^[^:\-–]{{0,20}}[:\-–]\s*", plain(subject))
        title = subject[tag.end():] if tag and tag.end() < len(subject) else subject
    args: dict[str, Value] = {"title": " ".join(title.split())}
    category = category_of(prepared.own)
    if category and draft.action != "propose":
        args["category"] = category
    return Request(draft.action, args)


def _administrivia(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    return Request("administrivia", {"intent": draft.intent} if draft.intent else {})


def _moderation(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    args: dict[str, Value] = {}
    hold = hold_in_bot_mail(f"{plain(prepared.said.subject)}\n{prepared.quoted}")
    if hold is not None:
        args["hold"] = hold
    if draft.action == "reject":
        reason = " ".join(draft.words) or _reason(prepared)
        if reason:
            args["reason"] = reason
    return Request(draft.action, args)


def _reason(prepared: Prepared) -> str:
    """A rejection's reason: the writer's own words (as written, punctuation kept) after
    the opening "No"/"Refusé", on one line."""
    said = " ".join(line.strip() for line in prepared.lines if line.strip())
    return re.sub(r"^\W*(?:non|no|nope|refus\w*|reject\w*|rejet\w*)\b\W*(?:please|svp|merci)?"
                  r"[\W_]*", "", said, flags=re.I).strip(" –-")


def _member_named(draft: Draft, prepared: Prepared, known: Known, language: str) -> Request:
    """A moderator's act on one member ("modérer marie@exemple.fr", "rappel Marie
    Dubois"): `who` is the address written, else the member the words name."""
    if not draft.typed:  # a sentence: the address written, else the member it names
        return _member_in_sentence(draft, prepared, known, language)
    phrase = " ".join(draft.words).strip(" .!?")
    written = read_args.addresses(phrase)
    if written:
        return Request(draft.action, {"who": written[0]})
    if not phrase:
        return Request(draft.action)
    found = who_is(phrase, known.roster, exclude=prepared.said.sender)
    args: dict[str, Value] = {"intent": draft.action}
    if len(found) > 1:
        args["candidates"] = tuple(p.email for p in found)
        return _unclear("which", language, args, name=phrase,
                        candidates=", ".join(f"{p.name} <{p.email}>" for p in found))
    if not found:
        return _unclear("unknown-person", language, args, name=phrase)
    return Request(draft.action, {"who": found[0].email})


def _member_in_sentence(draft: Draft, prepared: Prepared, known: Known,
                        language: str) -> Request:
    text = draft.sentence.text if draft.sentence is not None else prepared.own
    text = re.sub(r"(\w)['’]s\b", r"\1", text)  # "Marie's moderation"
    written = read_args.addresses(text)
    if written:
        return Request(draft.action, {"who": written[0]})
    named = mentions(text, known.roster, exclude=prepared.said.sender)
    here = list(dict.fromkeys(m.person for m in named if m.start == named[0].start)) \
        if named else []
    if len(here) == 1:
        return Request(draft.action, {"who": here[0].email})
    args: dict[str, Value] = {"intent": draft.action}
    if here:
        args["candidates"] = tuple(p.email for p in here)
        first = here[0].name.split(" ")[0]
        return _unclear("which", language, args, name=first,
                        candidates=", ".join(f"{p.name} <{p.email}>" for p in here))
    return Request(draft.action)


def _nothing_understood(draft: Draft, prepared: Prepared, known: Known,
                        language: str) -> Request:
    case = "decide" if prepared.said.role == "confirm" else "what"
    return _unclear(case, language, {})


_RESOLVERS: dict[str, Resolver] = {
    "record": books.resolve_record, "reverse": books.resolve_reverse,
    "yearly_statement": books.resolve_yearly,
    "pay": _pay, "claim": _claim, "dispute": _dispute,
    **dict.fromkeys(("join", "leave", "nomail", "mail", "digest", "language"), _membership),
    **dict.fromkeys(("withdraw", "extend"), _about_proposal),
    **dict.fromkeys(("renew", "close"), _about_item),
    **dict.fromkeys(("offers", "requests"), _listing),
    "decisions": _decisions,
    "get": _archived_post,
    **dict.fromkeys(("object", "support"), _stance),
    **dict.fromkeys(("propose", "offer_item", "request_item"), _new_post),
    "administrivia": _administrivia,
    **dict.fromkeys(("moderate", "unmoderate", "remind", "ban", "unban"), _member_named),
    **dict.fromkeys(("approve", "reject", "discard"), _moderation),
    "unclear": _nothing_understood,
}
