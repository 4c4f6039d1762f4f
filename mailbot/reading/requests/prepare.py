"""A message made ready to read: the subject without its marks, the writer's own sentences
(greetings, sign-offs and phone footers set aside; a bottom-posted reply's text found under
the quote) and the text quoted or forwarded under it, all also in `plain` form.
"""

import functools
import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from mailbot.reading.replies import is_greeting, own_text
from mailbot.reading.spoken import plain
from mailbot.reading.subjects import is_reply, without_marks

from .lexicon import KEYWORDS, NOT_SLIPS, SPELLINGS
from .model import Said

_FOOTER = re.compile(r"^\s*(envoye|sent|get|obtenir|telecharger)\b.{0,40}\b(de|depuis|from|"
                     r"with|on|pour|for|mon|my)\b", re.I)
_ATTRIBUTION = re.compile(r"(a ecrit|wrote)\s*:?\s*$|^-{2,}\s*(mail original|original message|"
                          r"message d'origine)|^\s*(de|from)\s*:", re.I)
# A sentence ends at . ! ? ; after a word, not after "M." or "n°" or inside "1.5".
# The look-ahead first lets the engine skip to punctuation (2-3 times faster on a post).
_SENTENCE_END = re.compile(r"(?=[.!?;])(?<![\s.][A-Za-z])(?<!\bMme)(?<!\bMr)(?<!\bMrs)"
                           r"(?<!\bno)[.!?;]+(?=\s|$)|\n+")
_GREETING_HEAD = re.compile(
    r"^(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|dear|chere?s?|good (?:morning|evening|"
    r"afternoon))\b(?:\s+(?:a tous|a toutes|tout le monde|everyone|all|madame|monsieur|"
    r"mesdames|messieurs))*(?:\s+[a-z]+)?\s*[,!:.]+\s*")


@dataclass(frozen=True)
class Sentence:
    text: str  # as typed, on one line
    plain: str  # plain(text), its greeting head removed
    where: str  # "subject" or "body"
    asked: bool = False  # it ended with a question mark


@dataclass(frozen=True)
class Prepared:
    said: Said
    subject: str  # without Re:/Fwd: marks and [tags]
    own: str  # the writer's own text
    quoted: str  # plain: what was quoted or forwarded (the bot's mail, a proposal…)
    sentences: tuple[Sentence, ...]  # the body's own sentences, in order
    replying: bool

    @property
    def lines(self) -> list[str]:
        """The own text's lines, those a mail program wrapped joined again."""
        return _unwrapped(self.own).splitlines()

    @property
    def body_plain(self) -> str:
        return " ".join(s.plain for s in self.sentences)

    @property
    def everything(self) -> tuple[Sentence, ...]:
        """The subject (as a sentence) then the body's sentences."""
        head = (Sentence(self.subject, plain(self.subject), "subject",
                         self.subject.rstrip().endswith("?")),) if self.subject else ()
        return head + self.sentences


def prepare(said: Said) -> Prepared:
    text = said.text.replace("\r\n", "\n")
    own = own_text(text)
    if not _says_something(own):
        own = _below_quote(text) or own
    quoted = _rest(text, own)
    sentences = tuple(_sentences(own, said))
    subject = said.subject
    if said.list_prefix and subject.lower().startswith(said.list_prefix.lower()):
        subject = subject[len(said.list_prefix):]
    return Prepared(said, without_marks(subject), own, plain(quoted), sentences,
                    is_reply(subject.strip()) or is_reply(said.subject.strip()))


def _says_something(own: str) -> bool:
    return any(line.strip() and not is_greeting(line) for line in own.splitlines())


def _below_quote(text: str) -> str:
    """A bottom-posted reply: the unquoted lines after the last quoted one."""
    lines = text.splitlines()
    quoted = [i for i, line in enumerate(lines) if line.lstrip().startswith(">")]
    if not quoted:
        return ""
    below = [line for line in lines[quoted[-1] + 1:] if not _ATTRIBUTION.search(line)]
    return own_text("\n".join(below))


def _rest(text: str, own: str) -> str:
    """What is not the writer's own text: quoted lines without their ">"."""
    own_lines = {line.strip() for line in own.splitlines() if line.strip()}
    rest = [re.sub(r"^(\s*>)+\s?", "", line) for line in text.splitlines()
            if line.strip() and line.strip() not in own_lines]
    return "\n".join(rest)


def _unwrapped(own: str) -> str:
    """Lines a mail program wrapped (long, no closing punctuation) joined to the next."""
    lines = own.splitlines()
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) >= 55 and out[-1][-1:] not in ".!?:;" and line.strip():
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def _sentences(own: str, said: Said) -> list[Sentence]:
    found: list[Sentence] = []
    names = _names(said)
    text = _unwrapped(own)
    ends = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text)]
    starts = [0] + [end for _, end in ends]
    for start, (stop, end) in zip(starts, [*ends, (len(text), len(text))], strict=True):
        piece, asked = " ".join(text[start:stop].split()), "?" in text[stop:end]
        if not piece:
            continue
        flat = plain(piece)
        if _FOOTER.match(flat) or _is_signature(flat, names):
            continue
        if is_greeting(piece) and len(piece.split()) <= 4:
            continue
        cleaned = _GREETING_HEAD.sub("", mended(flat))
        if cleaned:
            found.append(Sentence(piece, cleaned, "body", asked))
    return found


def mended(text: str) -> str:
    """Phone spellings made usual ("daccord", "koi") and long keywords' slips mended
    ("désincrire", "suprimer"), word by word."""
    words = _GAPS.split(text)
    words[::2] = [_mend(word) for word in words[::2]]  # between them, the gaps as they are
    return "".join(words)


_GAPS = re.compile(r"([\s,.;:!?'()]+)")


# A keyword's plural or singular is no slip of it ("proposal" is not "proposals" mistyped).
_KEYWORD_FORMS = frozenset(KEYWORDS) | {k + "s" for k in KEYWORDS} | {
    k.removesuffix("s") for k in KEYWORDS}
_LONGEST_SLIP = max(map(len, KEYWORDS)) + 2


def _mend(word: str) -> str:
    if word in SPELLINGS:
        return SPELLINGS[word]
    if not 7 <= len(word) <= _LONGEST_SLIP or word in _KEYWORD_FORMS or word in NOT_SLIPS \
            or not word.isalpha():
        return word
    return _slip_mended(word)


@functools.lru_cache(maxsize=4096)  # the same words come back in message after message
def _slip_mended(word: str) -> str:
    fits = [k for k in KEYWORDS if abs(len(k) - len(word)) <= 2 and
            OSA.distance(word, k) <= (1 if len(k) < 10 else 2)]
    return fits[0] if len(fits) == 1 else word


def _names(said: Said) -> list[str]:
    """The words of the writer's name and address, as `plain` makes them."""
    return [*plain(said.sender_name).split(), plain(said.sender.split("@")[0])]


def _is_signature(flat: str, names: list[str]) -> bool:
    """The writer's name, initials or a phone number on a line of its own (`flat`: the
    line as `plain` makes it)."""
    folded = flat.strip(" ,.-x")
    if not folded or re.fullmatch(r"[\d\s.+()/-]{6,}", folded):
        return True
    words = folded.split()
    return len(words) <= 3 and all(w in names or len(w) == 1 for w in words)
