"""Reading email commands: one per line, from the subject and the body, French or English.

Pure. Case, accents and extra spaces do not matter; quoted text and signatures are ignored;
reading stops after a few lines that are not commands. Each command remembers the language
of the word used, so a newcomer who writes "inscription" is answered in French.
"""

import re
from dataclasses import dataclass, field

from mailbot.reading.replies import is_greeting, own_text
from mailbot.reading.subjects import without_marks
from mailbot.reading.text import fold

# folded word (or two words) → (command, language of the word)
VERBS: dict[str, tuple[str, str]] = {
    "help": ("help", "en"), "aide": ("help", "fr"), "?": ("help", "en"),
    "join": ("join", "en"), "subscribe": ("join", "en"),
    "inscription": ("join", "fr"), "inscrire": ("join", "fr"), "s'inscrire": ("join", "fr"),
    "leave": ("leave", "en"), "unsubscribe": ("leave", "en"),
    "desinscription": ("leave", "fr"), "quitter": ("leave", "fr"),
    "desinscrire": ("leave", "fr"), "se desinscrire": ("leave", "fr"),
    "nomail": ("nomail", "en"), "pause": ("nomail", "fr"),
    "mail": ("mail", "en"), "reprise": ("mail", "fr"),
    "language": ("language", "en"), "langue": ("language", "fr"),
    "members": ("members", "en"), "membres": ("members", "fr"),
    "who": ("members", "en"),
    "add": ("add", "en"), "ajouter": ("add", "fr"),
    "remove": ("remove", "en"), "supprimer": ("remove", "fr"),
    "approve": ("approve", "en"), "approuver": ("approve", "fr"),
    "reject": ("reject", "en"), "refuser": ("reject", "fr"),
    "discard": ("discard", "en"), "jeter": ("discard", "fr"),
    "end": ("end", "en"), "fin": ("end", "fr"), "stop": ("end", "en"),
    "digest": ("digest", "en"), "resume": ("digest", "fr"),
    "pay": ("pay", "en"), "payer": ("pay", "fr"),
    "offers": ("offers", "en"), "offres": ("offers", "fr"),
    "requests": ("requests", "en"), "demandes": ("requests", "fr"),
    "renew": ("renew", "en"), "renouveler": ("renew", "fr"),
    "close": ("close", "en"), "clore": ("close", "fr"),
    "balance": ("balance", "en"), "solde": ("balance", "fr"),
    "statement": ("statement", "en"), "releve": ("statement", "fr"),
    "proposals": ("proposals", "en"), "propositions": ("proposals", "fr"),
    "decisions": ("decisions", "en"), "registre": ("decisions", "fr"),
    "withdraw": ("withdraw", "en"), "retirer": ("withdraw", "fr"),
    "extend": ("extend", "en"), "prolonger": ("extend", "fr"),
    "index": ("index", "en"), "sommaire": ("index", "fr"), "archive": ("index", "en"),
    "archives": ("index", "fr"),
    "get": ("get", "en"), "envoyer": ("get", "fr"),
    "charter": ("charter", "en"), "rules": ("charter", "en"),
    "charte": ("charter", "fr"), "regles": ("charter", "fr"), "reglement": ("charter", "fr"),
    "moderate": ("moderate", "en"), "moderer": ("moderate", "fr"),
    "unmoderate": ("unmoderate", "en"), "liberer": ("unmoderate", "fr"),
    "remind": ("remind", "en"), "rappel": ("remind", "fr"), "rappeler": ("remind", "fr"),
    "ban": ("ban", "en"), "bannir": ("ban", "fr"),
    "unban": ("unban", "en"), "debannir": ("unban", "fr"),
}
# Commands only a list's moderators may use, about one member (an address or a name).
MODERATOR_VERBS = ("moderate", "unmoderate", "remind", "ban", "unban")

@dataclass(frozen=True)
class Command:
    verb: str
    args: tuple[str, ...]
    line: str
    language: str


@dataclass
class Reading:
    """What was understood in a message: the commands, and the lines that were not."""

    commands: list[Command] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def language(self) -> str | None:
        """The language of the first command word, if any."""
        return self.commands[0].language if self.commands else None


def parse_line(line: str) -> Command | None:
    """One line → a Command, or None when its first word is not a command word."""
    original = " ".join(line.split())
    words = original.split(" ")
    folded = [fold(w) for w in words[:2]]  # a command word is one word or two
    for width in (2, 1):
        if len(words) >= width and " ".join(folded[:width]) in VERBS:
            verb, language = VERBS[" ".join(folded[:width])]
            return Command(verb, tuple(words[width:]), original, language)
    return None


_NUMBER_ARG = re.compile(r"^(?:#|n\s*[°º]\s*|no\.?\s*)?(\d{1,9})$", re.I)


def number_arg(command: Command) -> int | None:
    """The number a command names first ("12", "#12", "n°12", "n° 12"), or None."""
    for width in (1, 2):
        match = _NUMBER_ARG.match(" ".join(command.args[:width]))
        if match and len(command.args) >= width:
            return int(match.group(1))
    return None


def parse_commands(subject: str, body: str, *, max_unknown: int = 3,
                   max_commands: int = 20) -> Reading:
    """Read the subject (without Re:/Fwd:/[tags]) then the body's own lines."""
    reading = Reading()
    topic = without_marks(subject)
    if topic and (command := parse_line(topic)) is not None:
        if command.verb == "end":  # "stop" in the subject: nothing to read at all
            return reading
        reading.commands.append(command)
    for line in own_text(body).splitlines():
        if not line.strip():
            continue
        command = parse_line(line)
        if command is not None and command.verb == "end":
            break
        if command is None and is_greeting(line):
            continue
        if command is None:
            reading.unknown.append(" ".join(line.split()))
            if len(reading.unknown) >= max_unknown:
                reading.stopped_early = True
                break
        elif len(reading.commands) >= max_commands:
            reading.stopped_early = True
            break
        elif not _repeats_subject(reading, command):
            reading.commands.append(command)
    return reading


def _repeats_subject(reading: Reading, command: Command) -> bool:
    """A body that repeats the subject's command (common) is not a second command."""
    if len(reading.commands) != 1:
        return False
    first = reading.commands[0]
    return (first.verb, [fold(a) for a in first.args]) == (command.verb,
                                                          [fold(a) for a in command.args])
