"""Which actions a message asks for, by the address it was sent to: at the request address
the commands and sentences of intents.py; at the list address a new proposal, offer or
request, a stance in a proposal's thread, or a request that belongs to the robot
(administrivia); at a confirm address a moderator's decision. Pure.
"""

import re

from mailbot.reading.commands import MODERATOR_VERBS
from mailbot.reading.items import item_kind_and_title
from mailbot.reading.proposals import proposal_title
from mailbot.reading.spoken import plain

from .books import books_drafts
from .intents import (
    BODY,
    ENOUGH,
    SUBJECT_COMMAND,
    Draft,
    scored,
    strongest_cue,
    typed_commands,
)
from .lexicon import ABOUT_THE_GROUP, HOW_TO, ITEM_WORDS, OFFER_WORD, PROPOSAL_WORDS, REQUEST_WORD
from .lexicon_list import (
    AGREE,
    DECIDE,
    OBJECT,
    OFFER_TAG,
    OFFER_TEXT,
    PROPOSE_TAG,
    PROPOSE_TEXT,
    PUBLISH,
    REQUEST_TAG,
    REQUEST_TEXT,
    SUPPORT,
)
from .prepare import Prepared, Sentence
from .refs import item_in_bot_mail, numbers_named, proposal_in_bot_mail

# Actions a member may ask of the robot; at the list address they are administrivia.
ROBOT_ACTIONS = ("join", "leave", "nomail", "mail", "digest", "language", "help", "members",
                 "balance", "statement", "offers", "requests", "renew", "close", "withdraw",
                 "extend", "proposals", "decisions", "pay", "index", "get", "charter")
STRONG = 3 * BODY  # a reply in a thread must say a request outright to be one
_MAIL_WORDS = (r"\b(?:e ?mail(?:s|ing)?|mails?|messages?|courriels?|envois?|liste?|digest|"
               r"resume|pause|"
               r"newsletter|posts?)\b")
# How a post says it is an offer, a request or a proposal (in a sentence).
_OFFER_TEXT, _REQUEST_TEXT, _PROPOSE_TEXT = (re.compile(p) for p in (
    OFFER_TEXT, REQUEST_TEXT, PROPOSE_TEXT))
_FIRST_PERSON = re.compile(rf"\b(?:je|j'|me|m'|moi|mon|ma|mes|i|i'm|i'd|i'll|my)\b|{HOW_TO}")


def read(prepared: Prepared, points_per_hour: int = 60, stranger: bool = False,
         unit: str = "points") -> list[Draft]:
    """The actions a message asks for; `stranger`: its writer is not on the list."""
    role = prepared.said.role
    if role == "post":
        found = at_list(prepared, points_per_hour)
        return [found] if found else []
    if role == "confirm":
        return [at_confirm(prepared, points_per_hour)]
    drafts = at_request(prepared, points_per_hour, unit)
    if stranger and drafts[0].action in ("unclear", "help") and any(
            re.search(ABOUT_THE_GROUP, s.plain) for s in prepared.everything):
        return [Draft("join", ENOUGH, drafts[0].sentence)]  # someone outside asks about us
    return drafts


def at_request(prepared: Prepared, points_per_hour: int, unit: str = "points") -> list[Draft]:
    books = books_drafts(prepared, points_per_hour, unit)
    if books:  # a slip, a correction, a yearly statement, the agenda
        return books
    subject, body = typed_commands(prepared)
    if body:  # typed commands, one a line, as the help teaches: all of them, in order
        drafts = ([subject] if subject else []) + body
        return _unique(drafts)
    drafts = scored(_sentences(prepared), [subject] if subject else [], points_per_hour)
    item = _asked_to_publish(prepared)
    if item is not None:
        return [item]
    drafts = [d for d in drafts if d.action in ROBOT_ACTIONS or d.action in (
        "claim", "dispute", *MODERATOR_VERBS)]
    drafts = _in_context(drafts, prepared)
    if drafts and (drafts[0].score >= ENOUGH or not prepared.sentences):
        return [drafts[0]]  # a bare subject ("désinscrivez-moi") says all there is
    if _agrees(prepared) and item_in_bot_mail(f"{plain(prepared.said.subject)}\n{prepared.quoted}"):
        return [Draft("renew", ENOUGH, prepared.sentences[0])]  # "Oui" to a renewal notice
    return [Draft("unclear", 0)]


# "Prolonger" and "retirer" say extend and withdraw of a proposal, renew and close of an item.
_SWAP = {"proposal": {"renew": "extend", "close": "withdraw"},
         "item": {"extend": "renew", "withdraw": "close"}}


def _in_context(drafts: list[Draft], prepared: Prepared) -> list[Draft]:
    """Keeping, closing, withdrawing, extending: of the proposal or item the sentence names,
    else of the one the bot's quoted mail is about (which makes "la retirer" enough)."""
    quoted = f"{plain(prepared.said.subject)}\n{prepared.quoted}"
    from_quote = ("proposal" if proposal_in_bot_mail(quoted) is not None else
                  "item" if item_in_bot_mail(quoted) is not None else None)
    merged: dict[str, Draft] = {}
    for draft in drafts:
        if draft.action in ("renew", "close", "withdraw", "extend"):
            text = draft.sentence.plain if draft.sentence else ""
            about = ("proposal" if re.search(PROPOSAL_WORDS, text) else
                     "item" if re.search(ITEM_WORDS, text) else from_quote)
            action = _SWAP.get(about or "", {}).get(draft.action, draft.action)
            bonus = 2 if about is not None and about == from_quote else 0
            draft = Draft(action, draft.score + bonus, draft.sentence, draft.words, draft.typed)
        if draft.action in merged:
            known = merged[draft.action]
            draft = Draft(draft.action, known.score + draft.score, known.sentence, known.words,
                          known.typed)
        merged[draft.action] = draft
    return sorted(merged.values(), key=lambda d: -d.score)


def _agrees(prepared: Prepared) -> bool:
    return bool(prepared.sentences) and re.search(AGREE, prepared.sentences[0].plain) is not None


def at_list(prepared: Prepared, points_per_hour: int) -> Draft | None:
    """A post: a proposal, an item, a stance, administrivia, or nothing (distribute it)."""
    if not prepared.replying:
        tagged = _tagged_proposal(prepared) or _tagged_item(prepared)
        if tagged is not None:
            return tagged
    stance = _stance(prepared)
    if stance is not None:
        return stance
    robot = _robot_request(prepared, points_per_hour)
    if prepared.replying:
        return robot if robot is not None and robot.score >= STRONG else None
    item = _item_posted(prepared)
    if item is not None and (robot is None or item.score >= robot.score):
        return item
    if robot is not None:
        return robot
    if any(_says(_PROPOSE_TEXT, s) for s in prepared.sentences):
        return Draft("propose", ENOUGH)
    return None


def at_confirm(prepared: Prepared, points_per_hour: int) -> Draft:
    """A reply to a held-post notice (or a confirmation): its first words decide."""
    for sentence in prepared.sentences[:3]:
        for action, pattern in DECIDE.items():
            if re.search(pattern, sentence.plain):
                return Draft(action, ENOUGH, sentence)
    typed = [d for d in typed_commands(prepared)[1] if d.action in DECIDE]
    return typed[0] if typed else Draft("unclear", 0)


def _sentences(prepared: Prepared) -> tuple[Sentence, ...]:
    """The subject counts unless it is only the bot's own subject being answered."""
    if prepared.replying and re.search(r"\b(?:reponse a votre message|reply to your message|"
                                       r"resume du jour|digest)\b", plain(prepared.subject)):
        return prepared.sentences
    return prepared.everything


def _unique(drafts: list[Draft]) -> list[Draft]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    kept = []
    for draft in drafts:
        key = (draft.action, tuple(plain(w) for w in draft.words))
        if key not in seen:
            seen.add(key)
            kept.append(draft)
    return kept


def _tagged_proposal(prepared: Prepared) -> Draft | None:
    subject = prepared.said.subject
    if proposal_title(subject, prepared.said.list_prefix) or re.match(
            PROPOSE_TAG, plain(prepared.subject)):
        return Draft("propose", 2 * ENOUGH)
    return None


def _tagged_item(prepared: Prepared) -> Draft | None:
    found = item_kind_and_title(prepared.said.subject, prepared.said.list_prefix)
    if found is not None:
        return Draft(f"{found[0]}_item", 2 * ENOUGH)
    subject = plain(prepared.subject)
    if re.match(OFFER_TAG, subject):
        return Draft("offer_item", 2 * ENOUGH)
    if re.match(REQUEST_TAG, subject):
        return Draft("request_item", 2 * ENOUGH)
    return None


def _item_posted(prepared: Prepared) -> Draft | None:
    """An offer or a request said in words ("je cherche quelqu'un pour…", "happy to…")."""
    everything = prepared.everything
    offer = sum(BODY * 3 for s in everything if _says(_OFFER_TEXT, s))
    wanted = sum(BODY * 3 for s in everything if _says(_REQUEST_TEXT, s))
    if not offer and not wanted:
        return None
    return Draft("offer_item", offer) if offer > wanted else Draft("request_item", wanted)


def _says(pattern: re.Pattern[str], sentence: Sentence) -> bool:
    return pattern.search(sentence.plain) is not None


def _asked_to_publish(prepared: Prepared) -> Draft | None:
    """An offer or request sent to the robot to be put on the list: tagged as the help
    teaches, or said, with a word asking to publish it."""
    tagged = _tagged_item(prepared)
    if tagged is not None:
        return tagged
    if not any(re.search(PUBLISH, s.plain) for s in prepared.sentences):
        return None
    said = _item_posted(prepared)
    if said is not None:
        return said
    text = prepared.body_plain
    if re.search(OFFER_WORD, text):
        return Draft("offer_item", 2 * ENOUGH)
    if re.search(REQUEST_WORD, text):
        return Draft("request_item", 2 * ENOUGH)
    return None


def _stance(prepared: Prepared) -> Draft | None:
    """Objection or support, in a proposal's context (its thread, its number or title in
    the subject, the bot's proposal quoted, or a number the writer names)."""
    if not prepared.sentences or not _about_a_proposal(prepared):
        return None
    for action, pattern in (("object", OBJECT), ("support", SUPPORT)):
        for sentence in prepared.sentences:
            if re.search(pattern, sentence.plain):
                return Draft(action, 2 * ENOUGH, sentence)
    return None


def _about_a_proposal(prepared: Prepared) -> bool:
    said = prepared.said
    return (said.thread_proposal is not None
            or proposal_title(said.subject.split(":", 1)[-1], said.list_prefix) is not None
            or re.search(r"\b(?:proposition|proposal)s?\b", plain(prepared.subject)) is not None
            or proposal_in_bot_mail(prepared.quoted) is not None
            or bool(numbers_named(prepared.body_plain))
            or bool(numbers_named(plain(prepared.subject)))
            or re.search(r"\b(?:resume|digest|rappel|reminder)\b", plain(prepared.subject))
            is not None)


def _robot_request(prepared: Prepared, points_per_hour: int) -> Draft | None:
    """A request for the robot sent to everyone: a bare command as the whole message, or a
    sentence about the writer's own membership, delivery or account."""
    subject, body = typed_commands(prepared)
    if subject is not None and subject.action in MODERATOR_VERBS:
        subject = None  # "Rappel réunion jeudi": a post's topic, not a moderator's act
    body = [d for d in body if d.action not in MODERATOR_VERBS]
    if subject is not None and not prepared.sentences:
        return Draft("administrivia", SUBJECT_COMMAND, intent=subject.action)
    if len(body) == 1 and len(prepared.sentences) <= 1:
        return Draft("administrivia", body[0].score, body[0].sentence, intent=body[0].action)
    if not prepared.sentences:  # only a subject: an empty post asking something is no talk
        asked = [d for d in scored(list(prepared.everything), [], points_per_hour)
                 if d.action in ROBOT_ACTIONS and d.action != "help"]
        if asked:
            return Draft("administrivia", asked[0].score, asked[0].sentence,
                         intent=asked[0].action)
    personal = [s for s in prepared.everything if _FIRST_PERSON.search(s.plain)]
    drafts = [d for d in scored(personal, [], points_per_hour) if d.action in ROBOT_ACTIONS]
    best = drafts[0] if drafts else None
    if best is None or best.action == "help" or best.sentence is None:
        return None
    # One phrase must say it outright: weak cues adding up make posts look like requests.
    sentence = best.sentence
    if best.action in ("nomail", "mail", "digest") and not re.search(_MAIL_WORDS, sentence.plain):
        return None  # "I'm back from holiday, count me in": talk, not the robot's business
    if best.score >= ENOUGH and sentence.where == "body" and \
            strongest_cue(sentence, best.action) >= 3:
        return Draft("administrivia", best.score, best.sentence, intent=best.action)
    return None
