"""The books from the command line (issue 19): opening balances imported from a CSV (all
or nothing, summing to zero or balanced against a named system account), the journal
exported as CSV, past members' balances kept. On SQLite and PostgreSQL."""

import csv
import io
from pathlib import Path

import pytest

from tests.helpers import write_config
from tests.test_cli import MEMBERS, fails, ok, write

CAP = pytest.CaptureFixture[str]


@pytest.fixture
def books(tmp_path: Path, database_url: str, capsys: CAP) -> Path:
    config = write_config(tmp_path, database_url, maildir=tmp_path / "outbox")
    ok(capsys, config, "db", "upgrade")
    for email, name in MEMBERS:
        ok(capsys, config, "members", "add", "--list", "sel", email, name)
    return config


def balances(capsys: CAP, config: Path) -> dict[str, int]:
    out = ok(capsys, config, "ledger", "--list", "sel")
    return {line.split("\t")[0]: int(line.split("\t")[1].split()[0])
            for line in out.splitlines()}


def test_import_that_sums_to_zero(books: Path, capsys: CAP, tmp_path: Path) -> None:
    path = write(tmp_path / "soldes.csv", "email,points\nmarie@example.com,120\n"
                 "bob@example.net,-90\nchloe@example.fr,-30\n")
    assert ok(capsys, books, "ledger", "import", "--list", "sel", str(path)) == \
        f"3 opening balance(s) recorded from {path}\n"
    got = balances(capsys, books)
    assert got["marie@example.com"] == 120 and got["bob@example.net"] == -90
    assert got["chloe@example.fr"] == -30 and got["opening-balances"] == 0
    assert sum(got.values()) == 0


def test_unbalanced_import_is_refused_and_nothing_written(books: Path, capsys: CAP,
                                                         tmp_path: Path) -> None:
    path = write(tmp_path / "soldes.csv", "email,points\nmarie@example.com,120\n"
                 "bob@example.net,-90\n")
    err = fails(capsys, books, "ledger", "import", "--list", "sel", str(path))
    assert "sum to +30 points, not 0: nothing imported" in err
    assert set(balances(capsys, books).values()) == {0}
    stranger = write(tmp_path / "s.csv", "email,points\nmarie@example.com,60\n"
                     "zoe@example.org,-60\n")
    err = fails(capsys, books, "ledger", "import", "--list", "sel", str(stranger))
    assert "not members of sel@example.org: zoe@example.org" in err
    bad = write(tmp_path / "b.csv", "email,points\nmarie@example.com,beaucoup\n")
    assert "b.csv:2" in fails(capsys, books, "ledger", "import", "--list", "sel", str(bad))
    assert set(balances(capsys, books).values()) == {0}


def test_import_balanced_against_a_system_account_then_export(books: Path, capsys: CAP,
                                                              tmp_path: Path) -> None:
    path = write(tmp_path / "soldes.csv", "email,points\nmarie@example.com,2h\n"
                 "bob@example.net,-30\n")
    ok(capsys, books, "ledger", "import", "--list", "sel", str(path), "--against",
       "caisse@example.org")
    got = balances(capsys, books)
    assert got["marie@example.com"] == 120 and got["caisse@example.org"] == -90
    rows = list(csv.DictReader(io.StringIO(ok(capsys, books, "ledger", "export", "--list",
                                                "sel"))))
    assert [(r["payer"], r["payee"], r["points"], r["hours"]) for r in rows] == [
        ("caisse@example.org", "marie@example.com", "120", "2h"),
        ("bob@example.net", "caisse@example.org", "30", "0h30")]
    assert rows[0]["payee_name"] == "Marie" and rows[0]["memo"] == "opening balance"
    out = tmp_path / "journal.csv"
    assert ok(capsys, books, "ledger", "export", "--list", "sel", "--out", str(out)) == \
        f"2 entries written to {out}\n"
    # a member who leaves keeps their history, and the treasurer still sees the balance
    ok(capsys, books, "members", "remove", "--list", "sel", "bob@example.net")
    assert balances(capsys, books)["bob@example.net"] == -30
