"""The sieve of the request reader's cue patterns (mailbot/reading/needles.py): a pattern it
leaves out cannot match, and it leaves most of them out of an everyday sentence."""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.reading.message import parse, readable_text
from mailbot.reading.needles import Sieve, needles
from mailbot.reading.requests.intents import _CUES, _SIEVE, sentence_scores
from mailbot.reading.requests.prepare import Sentence
from mailbot.reading.spoken import plain

CUES = [pattern for cues in _CUES.values() for _, pattern in cues]
ELDERS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "elders" / "msgs"
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"\b(?:pause|suspendre)\b", {"pause", "suspendre"}),
    (r"(?<!\bme )(?<!\bm')\b(?:payer|verser)\b", {"payer", "verser"}),  # no width
    (r"\b(?:payer|paye)\b", {"paye"}),  # the parser's own factoring: paye(?:r|)
    (r"(?:ab)?cdef", {"cdef"}),  # an optional part gives nothing
    (r"x+yz", {"yz"}),  # nor a one-letter run against a longer one
    (r"(?:stop|arretez) (?:les|ces) mails?", {" mail"}),  # the longest shortest needle
    (r"(?:stop|arretez) (?:les|des)", {"stop", "arretez"}),  # [ld]es once parsed
    (r"(?:me|m') ?desinscri\w*", {"desinscri"}),
])
def test_needles_are_what_every_match_holds(pattern: str, expected: set[str]) -> None:
    assert needles(re.compile(pattern)) == expected


@pytest.mark.parametrize("pattern", [
    r"a?", r"[abc]+", r"(?i)pause", r"\w+", r"(?:pause|\d+)", r"(\w)\1", r"(?:x){0,3}",
])
def test_a_pattern_without_sure_literals_has_no_needles(pattern: str) -> None:
    assert needles(re.compile(pattern)) is None


def test_a_pattern_without_needles_is_always_tried() -> None:
    open_ended, plain_word = re.compile(r"[a-z]{4}"), re.compile(r"\bpause\b")
    sieve = Sieve([open_ended, plain_word])
    assert sieve.may_match("nothing here") == {open_ended}
    assert sieve.may_match("une pause") == {open_ended, plain_word}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_sieve_keeps_every_cue_a_text_says(data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from(CUES))
    text = data.draw(st.from_regex(pattern))
    assert pattern.search(text)
    assert pattern in _SIEVE.may_match(text)


def _sentences() -> list[str]:
    files = [*sorted(ELDERS.glob("*"))[:200], *sorted(DATA.rglob("*.eml"))[:200]]
    lines = []
    for path in files:
        if path.is_file():
            text = readable_text(parse(path.read_bytes()))
            lines += [plain(line) for line in text.splitlines() if line.strip()]
    return lines


def test_on_real_mail_the_sieve_drops_no_cue_and_most_of_them() -> None:
    sentences = _sentences()
    assert len(sentences) > 500
    kept = 0
    for sentence in sentences:
        possible = _SIEVE.may_match(sentence)
        assert {p for p in CUES if p.search(sentence)} <= possible, sentence
        kept += len(possible)
    assert kept / len(sentences) < len(CUES) / 4  # a sieve that kept all would be no sieve


def test_scores_read_through_the_sieve_are_the_patterns_own() -> None:
    sentence = plain("Je voudrais me désinscrire de la liste, merci")
    assert len(_SIEVE.may_match(sentence)) < len(CUES) / 4
    assert sentence_scores(Sentence(sentence, sentence, "body"))["leave"] >= 3
