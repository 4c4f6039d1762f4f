"""Text helpers shared by readers of mail: HTML to text, accent folding, one-line safety.

HTML is made text with what its tags say of quotes: Gmail, Thunderbird, Yahoo and Apple
quotes (blockquote and their classes) are dropped, and all after Outlook's reply header."""

import re
import unicodedata
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
          "pre", "hr", "dl", "dt", "dd", "section", "article", "header", "footer", "center",
          "address"}
_CELL = {"td", "th"}  # cells of a row: apart, on one line
_SKIP = {"style", "script", "head", "title", "blockquote"}
_QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg")  # lowercase
# Outlook's header block: the original message follows it, beside it rather than inside.
_QUOTE_TO_THE_END = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")


class _TextExtractor(HTMLParser):
    """Keeps the visible own text of an HTML mail: drops styles, scripts and quoted blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_stack: list[str] = []
        self.ended = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        self.ended = self.ended or any(q in classes for q in _QUOTE_TO_THE_END)
        if self.ended:
            return
        if self.skip_stack or tag in _SKIP or any(q in classes for q in _QUOTE_CLASSES):
            if tag not in ("br", "img", "hr", "meta", "link", "input"):
                self.skip_stack.append(tag)
            return
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.ended:
            return
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.pop()
            return
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_stack and not self.ended:
            self.parts.append(data.replace("\xa0", " "))


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last guard against odd input
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def fold(text: str) -> str:
    """Lowercase, accents removed, spaces collapsed: how command words are compared."""
    if text.isascii():  # most lines: nothing to decompose (NFKD leaves ASCII as it is)
        return " ".join(text.lower().split())
    return " ".join(text.translate(_BARE).lower().replace("’", "'").split())


class _Bare(dict[int, str]):
    """A character → its NFKD decomposition without combining marks, worked out the first
    time `str.translate` asks (a character at a time: the same as decomposing the whole
    text, whose canonical reordering only moves the marks dropped). Three times faster
    than decomposing each text; at most `KEPT` characters kept."""

    KEPT = 4096

    def __missing__(self, code: int) -> str:
        bare = "".join(c for c in unicodedata.normalize("NFKD", chr(code))
                       if not unicodedata.combining(c))
        if len(self) < self.KEPT:
            self[code] = bare
        return bare


_BARE = _Bare()


# C0 controls but TAB, CR and LF (spaces once flattened), DEL and C1 controls: a NUL or
# an escape in a header the bot writes is refused by receivers (RFC 5322 §2.2)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def one_line(text: str, limit: int = 200) -> str:
    """User text made safe for a header or a single line: no CR/LF, bounded length."""
    flat = " ".join(_CONTROLS.sub("", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
