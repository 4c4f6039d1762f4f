"""What a message asks, before anyone is looked up: typed commands ("solde", "payer Marie
1h") and, in sentences, the phrase families of lexicon.py added up per action. The body
counts twice the subject; the best action wins. Pure.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.reading.amounts import find_amounts
from mailbot.reading.commands import MODERATOR_VERBS, Command, number_arg, parse_line
from mailbot.reading.needles import Sieve
from mailbot.reading.spoken import plain

from .lexicon import ASKING, CLAIM, DISPUTE, HOW_TO, INTENTS, LEDGER_WORDS, TOPICS
from .prepare import Prepared, Sentence

# Score of a typed command: in the body it is the writer's clearest word; in the subject
# (often a topic: "Résumé hebdomadaire", "decisions") a sentence of the body outweighs it.
BODY_COMMAND, SUBJECT_COMMAND = 8, 4
BODY, SUBJECT = 2, 1
ENOUGH = 4  # the least score that is a request rather than a guess
# The lexicon's phrase families, compiled once (each sentence is searched for all of them
# that may be in it: the sieve tells which from the sentence's letters).
_CUES = {action: tuple((weight, re.compile(pattern)) for weight, pattern in cues)
         for action, cues in INTENTS.items()}
_SIEVE = Sieve(pattern for cues in _CUES.values() for _, pattern in cues)


@dataclass(frozen=True)
class Draft:
    """An action read, with where it was read; `claim` and `dispute` become questions."""

    action: str
    score: int
    sentence: Sentence | None = None
    words: tuple[str, ...] = ()
    typed: bool = False  # a command as the help teaches it
    intent: str = ""  # for administrivia: the action the writer meant


_POLITE = {"please", "svp", "merci", "thanks", "stp", "s'il", "vous", "plait", "thank", "you",
           "pls", "plz", "!", "?", "."}
_NO_ARGS = {"help", "join", "leave", "nomail", "mail", "members", "balance", "statement",
            "proposals", "approve", "discard", "charter", "index"}
_MODE_WORDS = {"daily", "weekly", "off", "quotidien", "hebdomadaire", "non", "no", "jour",
               "semaine", "aucun", "each", "mime", "text", "texte"}
_UNITS = {"points", "point", "pts", "h", "heure", "heures", "hour", "hours", "minutes", "min"}
_LANGUAGE_WORDS = {"fr", "en", "francais", "anglais", "english", "french"}


def typed_command(line: str) -> Command | None:
    """A line that is a command as the help teaches it ("solde", "pause", "payer Marie 1h",
    "renouveler 2", "Statement please"), not a sentence that starts with a command word."""
    command = parse_line(line.strip(" .!?"))
    if command is None or command.verb == "end":
        return None
    rest = [plain(w).strip(".,!?") for w in command.args]
    rest = [w for w in rest if w and w not in _POLITE]
    verb = command.verb
    if verb in _NO_ARGS:
        fits = not rest
    elif verb in ("offers", "requests"):
        fits = len(rest) <= 1
    elif verb == "decisions":
        fits = not rest or (len(rest) == 1 and rest[0].isdigit())
    elif verb == "digest":
        fits = 0 < len(rest) <= 2 and rest[0] in _MODE_WORDS
    elif verb == "language":
        fits = len(rest) == 1 and rest[0] in _LANGUAGE_WORDS
    elif verb == "get":  # "get 12", "envoyer n° 12", not "envoyer 60 points à Lucien"
        fits = number_arg(command) is not None and len(rest) <= 2 and not any(
            w in _UNITS for w in rest)
    elif verb in ("renew", "close", "withdraw"):
        fits = number_arg(command) is not None and len(rest) <= 2
    elif verb == "extend":
        fits = number_arg(command) is not None and len(rest) <= 4
    elif verb == "pay":
        fits = bool(rest) and bool(find_amounts(plain(" ".join(command.args)), 60))
    elif verb in ("add", "remove"):
        fits = any("@" in w for w in rest)
    elif verb in MODERATOR_VERBS:  # an address, or a name of one to three words
        fits = any("@" in w for w in rest) or (
            0 < len(rest) <= 3 and all(re.fullmatch(r"[a-z][a-z.'-]*", w) for w in rest))
    else:  # reject REASON
        fits = True
    return command if fits else None


def typed_commands(prepared: Prepared) -> tuple[Draft | None, list[Draft]]:
    """The subject's command, and the body's lines that are commands."""
    subject = typed_command(prepared.subject) if prepared.subject else None
    head = Draft(subject.verb, SUBJECT_COMMAND, None, subject.args, True) if subject else None
    body = []
    for line in prepared.lines:
        command = typed_command(line) if line.strip() else None
        if command is not None:
            sentence = Sentence(line.strip(), plain(line), "body")
            body.append(Draft(command.verb, BODY_COMMAND, sentence, command.args, True))
    return head, body


def sentence_scores(sentence: Sentence, points_per_hour: int = 60) -> dict[str, int]:
    """Each action's weight in one sentence (each pattern counted once)."""
    scores: dict[str, int] = {}
    possible = _SIEVE.may_match(sentence.plain)
    for action, cues in _CUES.items():
        weight = sum(w for w, pattern in cues
                     if pattern in possible and _said(pattern, sentence.plain))
        if weight:
            scores[action] = weight
    if sentence.asked or re.match(ASKING, sentence.plain):
        for action, topic in TOPICS.items():
            if re.search(topic, sentence.plain):
                scores[action] = scores.get(action, 0) + 2
    if "pay" in scores and find_amounts(sentence.plain, points_per_hour):
        scores["pay"] += 1  # "envoyer 60 points à Lucien": a transfer verb and an amount
    if re.search(HOW_TO, sentence.plain):
        scores["help"] = scores.get("help", 0) + 1
    if re.search(CLAIM, sentence.plain) and find_amounts(sentence.plain, points_per_hour):
        scores["claim"] = 4
    if re.search(DISPUTE, sentence.plain):
        scores["dispute"] = 3 + 2 * bool(re.search(LEDGER_WORDS + "|" + _PAYMENT_WORDS,
                                                   sentence.plain))
    return scores


_PAYMENT_WORDS = r"\b(?:paiement|virement|payment|transfer)\b"


def strongest_cue(sentence: Sentence, action: str) -> int:
    """The weight of the strongest phrase of the action the sentence says (0: none)."""
    return max((w for w, pattern in _CUES.get(action, ()) if _said(pattern, sentence.plain)),
               default=0)


# "je ne veux plus faire partie du SEL", "I don't want to join": the cue is denied.
_DENIED = re.compile(r"\b(?:(?:pas|plus)(?!\s+d[e'])|jamais|no longer|not|never|don'?t|"
                     r"doesn'?t|didn'?t|won'?t)\s+(?:\w+\s+){0,2}$")


def _said(pattern: re.Pattern[str], text: str) -> bool:
    """The pattern is said in the text, and not denied just before."""
    return any(not _DENIED.search(text[max(0, m.start() - 30):m.start()])
               for m in pattern.finditer(text))


def scored(sentences: Iterable[Sentence], extra: Iterable[Draft] = (),
           points_per_hour: int = 60) -> list[Draft]:
    """Actions read in these sentences, best first; each with the sentence that says it
    most (the body's before the subject's)."""
    totals: dict[str, int] = {}
    best: dict[str, tuple[int, Sentence]] = {}
    for sentence in sentences:
        factor = SUBJECT if sentence.where == "subject" else BODY
        for action, weight in sentence_scores(sentence, points_per_hour).items():
            totals[action] = totals.get(action, 0) + weight * factor
            if action not in best or weight * factor > best[action][0]:
                best[action] = (weight * factor, sentence)
    drafts = {a: Draft(a, t, best[a][1]) for a, t in totals.items()}
    for draft in extra:
        known = drafts.get(draft.action)
        # A sentence saying the same action outweighs the typed subject's words ("Résumé
        # hebdomadaire" / "je préfère recevoir chaque message"), which stay for a number.
        drafts[draft.action] = Draft(draft.action, draft.score + (known.score if known else 0),
                                     known.sentence if known else draft.sentence,
                                     draft.words, draft.typed and not _in_body(known))
    return sorted(drafts.values(), key=lambda d: -d.score)


def _in_body(draft: Draft | None) -> bool:
    return draft is not None and draft.sentence is not None and draft.sentence.where == "body"


_FRENCH = re.compile(r"\b(?:je|j'|vous|le|la|les|des|de|pour|merci|bonjour|est|une|et|pas|mon|"
                     r"ma|mes|qui|que|avec|sur)\b")
_ENGLISH = re.compile(r"\b(?:i|you|the|to|for|please|thanks|my|is|and|of|with|can|could|"
                      r"would|hello|hi|me|it|on)\b")


def language_of(text: str) -> str:
    """"fr" or "en": the language the writer used (by its small words)."""
    folded = plain(text)
    french, english = len(_FRENCH.findall(folded)), len(_ENGLISH.findall(folded))
    if french == english:
        return ""
    return "fr" if french > english else "en"
