"""A member list as spreadsheets write it: CSV with `,` or `;`, UTF-8 (with or without a
BOM) or Windows-1252, quoted names with commas, a header row or none, the name in one
column or in two (first name, last name).

Pure: bytes in, rows and the reasons rows were refused out. The caller imports nothing
unless every row is good, so a file is never half imported.
"""

import csv
import io
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

_EMAIL_WORDS = ("email", "e-mail", "mail", "courriel", "adresse", "address")
_FIRST_WORDS = ("prénom", "prenom", "first", "given")
_NAME_WORDS = ("nom", "name", "last", "family", "surname")


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str


@dataclass(frozen=True)
class Refused:
    line: int
    reason: str


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) when it is valid UTF-8, else Windows-1252 (what Excel
    writes in France when asked for plain "CSV")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def delimiter(text: str) -> str:
    """`;` when the first lines use it more than `,` (French spreadsheets), else `,`."""
    head = "\n".join(text.splitlines()[:5])
    return ";" if head.count(";") > head.count(",") else ","


def read_roster(data: bytes) -> tuple[list[Row], list[Refused]]:
    text = decode(data)
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text)))
    columns = _columns(table[0]) if table else None
    rows: list[Row] = []
    refused: list[Refused] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(table, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or (number == 1 and columns is not None):
            continue
        email_at, name_at = columns or _guess(cells)
        raw = cells[email_at] if email_at is not None and email_at < len(cells) else ""
        if not raw:
            refused.append(Refused(number, "no email address on this line"))
            continue
        try:
            email = validate_email(raw, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            refused.append(Refused(number, f"{raw!r} is not an address: {exc}"))
            continue
        if email in seen:
            refused.append(Refused(number, f"{email} is already on line {seen[email]}"))
            continue
        seen[email] = number
        name = " ".join(cells[i] for i in name_at if i < len(cells) and cells[i])
        rows.append(Row(number, email, name))
    return rows, refused


def _columns(first: list[str]) -> tuple[int | None, list[int]] | None:
    """(email column, name columns in order) when the first row names its columns."""
    words = [c.strip().lower() for c in first]
    email_at = next((i for i, w in enumerate(words) if w in _EMAIL_WORDS
                     or (w and "@" not in w and any(k in w for k in ("mail", "courriel")))),
                    None)
    if email_at is None:
        return None
    firsts = [i for i, w in enumerate(words) if any(k in w for k in _FIRST_WORDS)]
    names = [i for i, w in enumerate(words)
             if i != email_at and i not in firsts and any(k in w for k in _NAME_WORDS)]
    return email_at, firsts + names


def _guess(cells: list[str]) -> tuple[int | None, list[int]]:
    """No header: the address is the cell with an @ (else the first), the name the rest."""
    email_at = next((i for i, c in enumerate(cells) if "@" in c), 0)
    return email_at, [i for i in range(len(cells)) if i != email_at]
