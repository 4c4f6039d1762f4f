"""The words under the request reader: amounts written in words and found inside sentences
(mailbot.reading.amounts), and members named in a roster given as data
(mailbot.reading.requests.names): ambiguous, with a typo, "Mme Dubois", without accents;
the numbers given to a proposal or an item (mailbot.reading.requests.refs)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading.amounts import find_amounts, parse_amount
from mailbot.reading.requests.model import Person
from mailbot.reading.requests.names import mentions, who_is
from mailbot.reading.requests.refs import numbers_named
from mailbot.reading.spoken import (
    _APOSTROPHES,
    _ELISION,
    _HYPHEN,
    _SPACED_APOSTROPHE,
    number_value,
    plain,
)
from mailbot.reading.text import fold

DATA = Path(__file__).parent / "data"

# ---------------------------------------------------------------------------------------------
# amounts


@pytest.mark.parametrize(("text", "points"), [
    ("deux heures", 120), ("une heure", 60), ("une heure et demie", 90),
    ("deux heures et demie", 150), ("un quart d'heure", 15), ("trois quarts d'heure", 45),
    ("une demi-heure", 30), ("une demi heure", 30), ("quarante-cinq minutes", 45),
    ("vingt minutes", 20), ("an hour and a half", 90), ("one and a half hours", 90),
    ("half an hour", 30), ("a quarter of an hour", 15), ("two hours", 120), ("an hour", 60),
    ("1 heure et demie", 90), ("1h et demie", 90), ("UNE HEURE ET DEMIE", 90),
    ("deux heures et quart", 135), ("1 heure 1/2", 90), ("une petite heure", 60),
    ("dix-sept minutes", 17), ("vingt et une minutes", 21),
])
def test_amounts_in_words_are_read_whole(text: str, points: int) -> None:
    assert parse_amount(text, 60) == points


@pytest.mark.parametrize("text", ["deux", "une heure et", "heures", "demie", "quelques heures",
                                  "1/2h", "un quart", "la moitié"])
def test_words_that_are_not_a_whole_amount(text: str) -> None:
    assert parse_amount(text, 60) is None


def test_words_follow_the_lists_rate() -> None:
    assert parse_amount("une heure et demie", 100) == 150
    assert parse_amount("trois quarts d'heure", 100) == 75


@pytest.mark.parametrize(("sentence", "points"), [
    ("je dois un quart d'heure à Odette pour l'ourlet", [15]),
    ("payer Lucien deux heures et demie pour le bois", [150]),
    ("pay bill 2 hours for fixing my tablet", [120]),
    ("payer marie dubois 90 points confitures", [90]),
    ("j'ai fait 2h de jardinage samedi", [120]),
    ("payer Marie 1h30 puis 45 min à Odette", [90, 45]),
    ("je règle 2h15 à Gérard", [135]),
])
def test_amounts_found_in_a_sentence(sentence: str, points: list[int]) -> None:
    assert [a.points for a in find_amounts(plain(sentence), 60) if not a.bare] == points


@pytest.mark.parametrize("sentence", [
    "départ 9h devant la mairie",  # a time of day
    "rendez-vous à 14h30 au local",
    "il m'a emmenée chez le kiné 4 fois",  # counted things
    "la ligne du 12 novembre",  # a date
    "c'est la ligne -60 points",  # a debit read back, not an amount to pay
    "la proposition n°3",
    "ça coûte 90 €",
])
def test_what_is_not_an_amount_in_a_sentence(sentence: str) -> None:
    assert find_amounts(plain(sentence), 60) == []


def test_a_bare_number_is_marked_bare() -> None:
    (found,) = find_amounts(plain("payer Marie 90"), 60)
    assert (found.points, found.bare) == (90, True)


@pytest.mark.parametrize(("word", "value"), [("deux", 2), ("vingt cinq", 25), ("1,5", 1.5),
                                             ("forty five", 45), ("dix huit", 18), ("x", None)])
def test_number_words(word: str, value: float | None) -> None:
    assert number_value(word) == value


def test_plain_restores_dropped_apostrophes_and_joins_hyphens() -> None:
    assert plain("JE N AI PAS DE POINTS SUR L AMPOULE") == "je n'ai pas de points sur l'ampoule"
    assert plain("Jean-Pierre, y a-t-il quelqu’un ?") == "jean pierre, y a t il quelqu'un ?"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["j", "J", "qu", "ai", "-", "’", "‘", "`", "´", "'", " ' ", " ",
                                 "a-t-il", "É", "l", "un", "ok", "\t", "é", "x"]), max_size=12)
       .map("".join) | st.text(max_size=40))
def test_plain_skips_only_the_rewrites_that_could_change_nothing(text: str) -> None:
    """`plain` runs a rewrite only when its character is in the text: the same as running
    them all, always."""
    everything = fold(_APOSTROPHES.sub("'", text))
    everything = _SPACED_APOSTROPHE.sub("'", _HYPHEN.sub(" ", everything))
    assert plain(text) == _ELISION.sub(r"\1'", everything)


# ---------------------------------------------------------------------------------------------
# names

ROSTER = [Person("marie.dubois@example.org", "Marie Dubois"),
          Person("marie.lefevre@example.net", "Marie Lefèvre"),
          Person("jpmartin@example.com", "Jean-Pierre Martin"),
          Person("lucien.roux@example.org", "Lucien Roux"),
          Person("gerard.petit@example.net", "Gérard Petit"),
          Person("dorothy.evans@example.net", "Dorothy Evans"),
          Person("francoise.bernard@example.org", "Françoise Bernard"),
          Person("bill.carter@example.com", "Bill Carter")]


def emails(people: list[Person]) -> list[str]:
    return [p.email for p in people]


@pytest.mark.parametrize(("phrase", "who"), [
    ("marie dubois", ["marie.dubois@example.org"]),
    ("MARIE LEFEVRE", ["marie.lefevre@example.net"]),  # no accents, capitals
    ("Lefèvre Marie", ["marie.lefevre@example.net"]),  # last name first, as on a form
    ("Mme Dubois", ["marie.dubois@example.org"]),
    ("madame lefevre", ["marie.lefevre@example.net"]),
    ("M. Petit", ["gerard.petit@example.net"]),
    ("Monsieur Roux", ["lucien.roux@example.org"]),
    ("Marie L.", ["marie.lefevre@example.net"]),
    ("Marie", ["marie.dubois@example.org", "marie.lefevre@example.net"]),  # two fit: ask
    ("Lucein", ["lucien.roux@example.org"]),  # a typo
    ("gerad", ["gerard.petit@example.net"]),
    ("Dorothée", ["dorothy.evans@example.net"]),  # the French way of her name
    ("francoise", ["francoise.bernard@example.org"]),
    ("Jean-Pierre", ["jpmartin@example.com"]), ("jean pierre", ["jpmartin@example.com"]),
    ("JP", ["jpmartin@example.com"]),
    ("bil carter", ["bill.carter@example.com"]),
    ("bill.carter@example.com", ["bill.carter@example.com"]),
    ("Colette", []), ("la voisine", []),
])
def test_who_a_phrase_names(phrase: str, who: list[str]) -> None:
    assert emails(who_is(phrase, ROSTER)) == who


def test_the_writer_is_never_their_own_payee() -> None:
    assert emails(who_is("Marie", ROSTER, exclude="marie.dubois@example.org")) == [
        "marie.lefevre@example.net"]


@pytest.mark.parametrize(("sentence", "who"), [
    ("Odette m'a fait un ourlet et Lucien m'a conduit", ["lucien.roux@example.org"]),
    ("J'ai fait 2h de jardinage chez Mme Dubois samedi", ["marie.dubois@example.org"]),
    ("PAY PETER HUGHES AND BILL", ["bill.carter@example.com"]),  # ALL CAPS: every word counts
    ("Je prête ma perceuse et fais du petit bricolage", []),  # "petit" is no Gérard Petit
    ("SEL de Saint-Martin", []),  # nor is Saint-Martin Jean-Pierre Martin
    ("rendez-vous devant la mairie", []),  # a slip away from Marie, but not capitalised
    ("Lucein m'a aidé", ["lucien.roux@example.org"]),  # a capitalised typo counts
])
def test_members_named_in_a_sentence(sentence: str, who: list[str]) -> None:
    assert [m.person.email for m in mentions(sentence, ROSTER)] == who


@pytest.mark.parametrize(("text", "numbers"), [
    ("je soutiens la proposition 3", [3]),
    ("la deuxieme, puis la 4 et #12", [2, 4, 12]),
    ("je soutiens la proposition ٣", [3]),  # any decimal digit, as the reader's regex reads
    ("la proposition du 3 mars", []),  # a date, not a number given
    ("rien ici", []),
])
def test_numbers_given_to_a_proposal_or_an_item(text: str, numbers: list[int]) -> None:
    assert numbers_named(text) == numbers


def test_numbers_read_as_the_plain_regex_reads_them() -> None:
    """Reading from the digits back changes nothing: every text of the reply corpus and
    generated mixes read as the one regex that searched the whole text (kept here) reads
    them."""
    import random
    import re

    from mailbot.reading.requests.refs import _MONTHS, _ORDINAL, _ORDINALS

    whole = re.compile(  # the pattern numbers_named replaced, as it was
        rf"(?:n°|#|\bno\.?|\bnum(?:ero|ber)?\.?|\bla|\bproposal|\bproposition|\bprop\.?|\boffre"
        rf"|\boffer|\bdemande|\brequest|\bannonce|\bitem)\s*(\d{{1,4}})\b(?!\s*(?:{_MONTHS}|h\b|"
        rf"heures?|hours?|%|€|euros?|ans|years|e\b|eme\b|er\b))")

    def plain_regex(text: str) -> list[int]:
        found = [(m.start(), int(m.group(1))) for m in whole.finditer(text)]
        found += [(m.start(), _ORDINALS[m.group(1)]) for m in _ORDINAL.finditer(text)]
        return [number for _, number in sorted(found)]

    words = ["la", "proposition", "n°", "#", "no.", "offre", "the", "second", "3", "٣", "12",
             "mars", "h", "demande", "item", "numero", "x", "2026", "deuxieme", "¹", "⑦",
             "number.", "prop.", "12345", "7h", "euros", "%", "ans", "e", "er", "vila", "no",
             "\t", "  ", "proposal", "annonce", "la3", "n°4", "#5", "1", "0042", "ٍ"]
    chooser = random.Random(31)
    texts = [chooser.choice((" ", "", "  ")).join(
        chooser.choice(words) for _ in range(chooser.randint(0, 12))) for _ in range(6000)]
    texts += [p.read_text(errors="replace").lower()
              for p in sorted((DATA / "replies").rglob("*")) if p.is_file()]
    assert all(numbers_named(t) == plain_regex(t) for t in texts)


def test_reordered_patterns_read_as_before() -> None:
    """spoken.py's elision and hyphen patterns and prepare.py's sentence ends put what
    they must find first (for speed): the same matches as the patterns they replaced,
    over the reply corpus, the elders' requests and generated mixes."""
    import random
    import re

    from mailbot.reading import spoken
    from mailbot.reading.requests import prepare

    before = {
        "elision": (re.compile(r"(?<![\w'])(j|m|s|l|n|d|c|qu|jusqu|lorsqu|puisqu|quelqu)"
                               r"\s+(?=[aeiouyh])"), spoken._ELISION),
        "hyphen": (re.compile(r"(?<=[a-z])-(?=[a-z])"), spoken._HYPHEN),
        "sentence end": (re.compile(r"(?<![\s.][A-Za-z])(?<!\bMme)(?<!\bMr)(?<!\bMrs)"
                                    r"(?<!\bno)[.!?;]+(?=\s|$)|\n+"), prepare._SENTENCE_END),
    }
    chooser = random.Random(31)
    alphabet = "jmslndcqaeiouyhMrxN -'.!?;\n\té’"
    texts = ["".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 60)))
             for _ in range(20000)]
    texts += ["Mme Dubois. M. Martin! no. 3; j ai vu l ami. c'est-a-dire...\n\nOui?"]
    for folder in ("replies", "elders"):
        for path in sorted((DATA / folder).rglob("*")):
            if path.is_file():
                text = path.read_text(errors="replace")
                texts += [text, plain(text)]
    for name, (old, new) in before.items():
        for text in texts:
            assert [m.span() + m.groups() for m in old.finditer(text)] == \
                [m.span() + m.groups() for m in new.finditer(text)], (name, text)
