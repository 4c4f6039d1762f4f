"""`fold`: lowercase, accents removed, spaces collapsed. Non-ASCII text is folded a
character at a time (`str.translate`, each character's decomposition worked out once):
the same as decomposing the whole text with NFKD and dropping its combining marks."""

import random
import unicodedata
from pathlib import Path

import pytest

from mailbot.reading import text
from mailbot.reading.text import fold

DATA = Path(__file__).parent / "data"


def _whole(line: str) -> str:
    """The reference: the whole text decomposed at once."""
    decomposed = unicodedata.normalize("NFKD", line)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().replace("’", "'").split())


@pytest.mark.parametrize(("line", "folded"), [
    ("Bonjour à  TOUS", "bonjour a tous"),
    ("Je n’ai pas reçu", "je n'ai pas recu"),
    ("ﬁn de l'Œuvre", "fin de l'œuvre"),  # a ligature split, a letter kept
    ("e\u0301te\u0301 déjà", "ete deja"),  # combining marks typed apart
    ("Ⅻ ½ ｈｏｕｒｓ", "xii 1⁄2 hours"),  # compatibility forms
    ("한국어", "한국어"),  # Hangul decomposed to its letters (NFKD), none dropped
])
def test_fold(line: str, folded: str) -> None:
    assert fold(line) == unicodedata.normalize("NFKD", folded) == _whole(line)


def test_the_same_as_decomposing_the_whole_text() -> None:
    lines = [line for path in sorted(DATA.rglob("*")) if path.is_file()
             for line in path.read_text("utf-8", "replace").splitlines() if not line.isascii()]
    assert len(lines) > 300
    generated = random.Random(20)
    blocks = [(0x20, 0x250), (0x300, 0x370), (0x1E00, 0x1F00), (0xAC00, 0xAD00),
              (0xFB00, 0xFB10), (0x2000, 0x2200), (0x1D400, 0x1D500), (0x0590, 0x0700)]
    for _ in range(20000):
        chars = (chr(generated.randrange(*generated.choice(blocks)))
                 for _ in range(generated.randrange(1, 30)))
        lines.append("".join(chars))
    assert [fold(line) for line in lines] == [_whole(line) for line in lines]


def test_what_is_kept_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text of every character (a message can hold any) does not grow the table past
    its bound, and is folded all the same."""
    monkeypatch.setattr(text, "_BARE", text._Bare())
    many = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 3 * text._Bare.KEPT))
    assert fold(many + " É") == _whole(many + " É")
    assert len(text._BARE) == text._Bare.KEPT
