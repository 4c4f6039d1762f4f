"""What one line of a reply is: a quote header, a header block, a separator, a footer…

Each test reads lines as `plain()` makes them (invisible marks removed, folded), against
the per-language tables of reply_words.py. replies.py walks a reply with them.
"""

import re
from collections.abc import Iterable, Sequence

from mailbot.reading import reply_words as words
from mailbot.reading.text import fold

_LONGEST = 500
# Bidi marks, zero-width spaces and BOMs: RTL clients wrap whole lines in them.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u061c\u200b\u200c\u200d\u200e\u200f\u202a"
                                    "\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"))


def plain(line: str) -> str:
    """A line as the tests below compare it. Its start only: every line these tests look
    for is short, and a megabyte-long line must not cost more than a short one."""
    start = line[:_LONGEST]
    return fold(start if start.isascii() else start.translate(_INVISIBLE))


def _spaced(char: str) -> bool:
    """A letter of a script that separates words with spaces (so word edges mean something)."""
    return char.isalpha() and ord(char) < 0x2E80


def _alternation(phrases: Iterable[str]) -> str:
    """One regex alternative per folded phrase, longest first, word-bounded where the
    script has words. The bounded ones share their bounds: it makes the search ~25 times
    faster than bounds on each."""
    bounded, others = [], []
    for phrase in sorted({fold(p) for p in phrases}, key=len, reverse=True):
        part = re.escape(phrase)
        if _spaced(phrase[0]) and _spaced(phrase[-1]):
            bounded.append(part)
            continue
        if _spaced(phrase[0]):
            part = r"(?<![^\W\d_])" + part
        if _spaced(phrase[-1]):
            part += r"(?![^\W\d_])"
        others.append(part)
    group = [r"(?<![^\W\d_])(?:" + "|".join(bounded) + r")(?![^\W\d_])"] if bounded else []
    return "|".join(group + others)


_WROTE = re.compile(_alternation(words.WROTE))
# Each verb _WROTE finds holds one of these phrases; searched plainly (no look-around first,
# so the engine skips to the letters they start with), about five times faster: most lines
# have none, and need no _WROTE search at all.
_WROTE_PHRASES = re.compile("|".join(re.escape(fold(p)) for p in words.WROTE))
_ADDRESS_THEN_COLON = re.compile(r"\S@\S+?[>\])]?\s*:$")
_ADDRESSES = re.compile(r"\S+@\S+")
_ROLES = {role: _alternation(keys) for role, keys in words.HEADER_KEYS.items()}
_KEY_START = re.compile(
    r"^[*_\s]*(?:" + "|".join(f"(?P<{r}>{alt})" for r, alt in _ROLES.items()) + r")[*_\s]*:")
# Keys also found later in a line ("À : x Objet : y"): only long or unambiguous ones.
_KEY_INLINE = {
    role: re.compile(r"(?:" + _alternation(k for k in keys if len(k) >= 4 or not _spaced(k[0]))
                     + r")[*_\s]*:")
    for role, keys in words.HEADER_KEYS.items()
}
_SEPARATORS = tuple(sorted({fold(s) for s in words.SEPARATORS}, key=len, reverse=True))
_SEPARATOR_EDGES = " -_=*~<>#:[]()"
_DATED_INTRO = re.compile(r"^(?:" + _alternation(words.DATED_INTROS) + r")\s*:?\s*\d[\d/.: -]*$")
_SENT_START = re.compile(r"^(?:" + _alternation(words.FOOTER_SENT) + r")")
_SENT_END = re.compile(r"(?:" + _alternation(words.FOOTER_SENT) + r")$")
_WEAK_SENT = _alternation(words.FOOTER_SENT_WITH_DEVICE)
_WEAK_START, _WEAK_END = re.compile(rf"^(?:{_WEAK_SENT})"), re.compile(rf"(?:{_WEAK_SENT})$")
_GET_APP = re.compile(r"^(?:" + _alternation(words.FOOTER_GET) + r")\b.*(?:"
                      + _alternation(words.FOOTER_APP) + r")")
_DEVICE = re.compile(r"(?<![a-z])(?:" + "|".join(
    re.escape(fold(d)) for d in sorted(words.FOOTER_DEVICE, key=len, reverse=True)) + r")")
_LINKS = re.compile(r"<[^<>]*>|https?://\S+")
_SIGNOFFS = frozenset(fold(s) for s in words.SIGNOFFS)
_BANNER_START = tuple(fold(w) for w in words.BANNER_START)
_BANNER = re.compile(_alternation(words.BANNER_WORDS))
_EDGE_SYMBOLS = re.compile(r"^[\W_]+|[\W_]+$")  # "Cheers 🎉", "-- Best,"
_PS = re.compile(r"^p\s?\.?\s?-?\s?s\b")
_DASH_NAME = re.compile(r"^[-/–—]\s?[^\W\d_][\w'.-]*(?: [^\W\d_][\w'.-]*){0,2}$")


def is_quoted(line: str, flat: str) -> bool:
    return line.lstrip().startswith(">") or flat.startswith(">")


def attribution_span(lines: Sequence[str], flats: Sequence[str], index: int) -> int:
    """How many lines from `index` make a quote header ("On …, Marie <m@x.org> wrote:",
    "Le … a écrit :", "Am … schrieb …"), wrapped over up to three lines; 0 when none."""
    span = _span(lines, flats, index)
    if span > 1:
        # A header wrapped over lines starts with some of it (a date, an address, the verb);
        # a finished sentence, or a line above a header that stands alone, is the writer's.
        first = flats[index]
        if first.endswith((".", "!", "?")) or not (
                _dated(first) or "@" in first or _verbs(first)):
            return 0
        below = _span(lines, flats, index + 1)
        if below == 1 and _dated(flats[index + 1]) and not first.endswith(","):
            return 0
    return span


def may_hold_attribution(flats: Sequence[str]) -> bool:
    """False when no line starts a quote header (`attribution_span` is 0 at each): a
    header's lines, joined as `_span` joins them (each without its trailing " -"), hold a
    "wrote" verb or end with ":", and these lines are some of all the text's lines, in
    order. One search of the whole text instead of one a line."""
    trimmed = [flat.rstrip(" -") for flat in flats]
    return any(t.endswith(":") for t in trimmed) or bool(
        _WROTE_PHRASES.search(" ".join(t for t in trimmed if t)))


def _span(lines: Sequence[str], flats: Sequence[str], index: int) -> int:
    # the line, then it and the next joined, then three: until a line that stops it
    joins: list[tuple[int, str]] = []
    joined = ""
    for end in range(index, min(index + 3, len(lines))):
        if not flats[end] or is_quoted(lines[end], flats[end]):
            break
        joined = f"{joined} {flats[end]}".strip()
        if len(joined) > 400:
            break
        joined = joined.rstrip(" -")  # Zoho's "---- On … wrote ----"
        joins.append((end, joined))
    # Each join starts with the one before: with no "wrote" verb in the last, none has
    # one, and a header without a verb ends with ":" (most lines: done with one search).
    if not joins or not (_WROTE_PHRASES.search(joins[-1][1])
                         or any(j.endswith(":") for _, j in joins)):
        return 0
    for end, joined in joins:
        verbs = _verbs(joined)
        found = _is_attribution(joined, verbs)
        if found == "weak" or (not found and _is_undotted_attribution(joined, verbs)):
            found = "weak" if _opens_quote(lines, flats, end + 1) else ""
        if found:
            return end - index + 1
    return 0


def _dated(text: str) -> bool:
    """A digit outside the addresses: a date or a time."""
    return any(c.isdigit() for c in _ADDRESSES.sub("", text))


def _verbs(text: str) -> list[re.Match[str]]:
    """The "wrote" verbs in a folded text, in order."""
    return list(_WROTE.finditer(text)) if _WROTE_PHRASES.search(text) else []


def _is_attribution(text: str, verbs: list[re.Match[str]]) -> str:
    """ "strong" for a quote header: a "wrote" verb with a date or an address, or a date
    then an address then ":"; "weak" for one that only a quote under it confirms
    ("Marie a écrit :"); "" for none. `verbs`: the text's, as `_verbs` finds them."""
    if not text.endswith(":"):
        # "On Wed, 14 Nov 2018 08:14 John <j@x.org> wrote", its colon forgotten
        tail = bool(verbs) and not text[verbs[-1].end():].strip()
        return "strong" if tail and "@" in text and _dated(text) else ""
    if verbs and verbs[-1].start() > 0:
        if _dated(text) or "@" in text:
            return "strong"
        if not text[verbs[-1].end():].strip(" :*") and len(text.split()) <= 10:
            return "weak"
    return "strong" if _dated(text) and _ADDRESS_THEN_COLON.search(text) else ""


def _is_undotted_attribution(text: str, verbs: list[re.Match[str]]) -> bool:
    """ "Am 20.06.24 um 16:20 schrieb Klarstein" without its colon: a date before the verb
    (a quote or header block under it must confirm it)."""
    return bool(verbs) and any(c.isdigit() for c in text[: verbs[0].start()])


def _opens_quote(lines: Sequence[str], flats: Sequence[str], index: int) -> bool:
    after = next_filled(flats, index)
    return after < len(lines) and (is_quoted(lines[after], flats[after])
                                   or is_header_block(flats, after))


def next_filled(flats: Sequence[str], index: int) -> int:
    """The index of the first non-blank line from `index` (len when none)."""
    while index < len(flats) and not flats[index]:
        index += 1
    return index


def _roles(flat: str) -> set[str]:
    """The header keys a line starts with ("De :", "*From:*") and names further on."""
    start = _KEY_START.match(flat)
    if start is None:
        return set()
    found = {role for role, value in start.groupdict().items() if value is not None}
    rest = flat[start.end():]
    return found | {role for role, key in _KEY_INLINE.items() if key.search(rest)}


def is_header_block(flats: Sequence[str], index: int) -> bool:
    """An Outlook-style block ("De : … / Envoyé : … / À : … / Objet : …", any language,
    plain or bold) starts here: a sender key with at least one other key close below."""
    roles = _roles(flats[index])
    if not roles:
        return False
    evidence = [flats[index]]
    for flat in [f for f in flats[index + 1 : index + 10] if f][:6]:
        found = _roles(flat)
        roles |= found
        if found:
            evidence.append(flat)
    if "from" not in roles or len(roles) < 2:
        return False
    return len(roles) >= 3 or any("@" in f or any(c.isdigit() for c in f) for f in evidence)


def is_separator(line: str, flat: str) -> bool:
    """ "-----Original Message-----", "----- Mail original -----", "Begin forwarded
    message:", Orange's "Message du 01/12/26 18:00", an Outlook rule of underscores, or a
    "-- " signature mark."""
    bare = line.strip()
    if bare in ("--", "__") or (len(bare) >= 10 and set(bare) == {"_"}):
        return True
    core = flat.strip(_SEPARATOR_EDGES)
    if not core:
        return False
    if core in _SEPARATORS or _DATED_INTRO.match(core):
        return True
    return flat.startswith(("--", "__", "==", "**")) and core.startswith(_SEPARATORS)


def is_mobile_footer(flat: str) -> bool:
    """ "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "Get Outlook for Android"…:
    a short line, no comma, a "sent" phrase at an end (and a device or app named, when the
    phrase could open a sentence too)."""
    if len(flat) > 300:
        return False
    core = _LINKS.sub("", flat).strip(" .!-–—:()[]")
    if not core or "," in core or len(core.split()) > 9:
        return False
    if _GET_APP.search(core) or _SENT_START.search(core) or _SENT_END.search(core):
        return True
    return bool((_WEAK_START.search(core) or _WEAK_END.search(core)) and _DEVICE.search(core))


def is_banner(flat: str) -> bool:
    """ "CAUTION: This message is from an EXTERNAL SENDER…" above the writer's text."""
    return flat.startswith(_BANNER_START) and bool(_BANNER.search(flat[:_LONGEST]))


def is_signoff(flat: str) -> bool:
    """ "Cordialement", "Kind regards,", "Bises, Yvette": a closing formula, alone on its
    line or followed by a short name."""
    core = _EDGE_SYMBOLS.sub("", flat)
    if core in _SIGNOFFS:
        return True
    head, comma, tail = core.partition(",")
    name = tail.split()
    return (bool(comma) and len(head) > 3 and head.strip() in _SIGNOFFS
            and 0 < len(name) <= 3 and not any(c.isdigit() for c in tail))


def is_name(line: str) -> bool:
    """ "Paul", "Perrin Aybara", "Jean de la Fontaine", "yvette": a name under a sign-off."""
    bare = line.strip().translate(_INVISIBLE)
    names = bare.split()
    if not names or len(names) > 4 or any(c.isdigit() or c in "@:/<>()" for c in bare):
        return False
    if len(names) == 1:
        return (bare[0].isalpha() and bare[-1] not in ".?!;"
                and all(c.isalpha() or c in "-'." for c in bare))
    return names[0][:1].isupper() and all(n[:1].isupper() or len(n) <= 3 for n in names)


def is_postscript(flat: str) -> bool:
    return bool(_PS.match(flat))


def is_decoration(line: str) -> bool:
    """A blank line, or one of rules only ("-----", "====", "* * *")."""
    return not line.translate(_INVISIBLE).strip(" -=_*~#.·•\t")


def is_dash_name(line: str) -> bool:
    """ "-Abhishek Kona", "/John": a name signed with a dash or a slash."""
    return bool(_DASH_NAME.match(line.strip()))


def is_wrapped_quote(lines: Sequence[str], flats: Sequence[str], index: int) -> bool:
    """A quoted line that the sender's client wrapped without its ">": lowercase or a
    digit, right between two quoted lines, under a long one."""
    start = lines[index].lstrip()[:1]
    if index == 0 or index + 1 >= len(lines) or not (start.islower() or start.isdigit()):
        return False
    above, below = index - 1, index + 1
    return (is_quoted(lines[above], flats[above]) and is_quoted(lines[below], flats[below])
            and len(lines[above].strip()) >= 60)
