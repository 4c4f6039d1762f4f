"""Fast, exact tests of the pure exchange modules: amounts of time as people write them
(mailbot.reading.amounts) and the rule deciding whether a transfer may happen
(mailbot.exchange.ledger)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.exchange.ledger import Limits, refuse_transfer
from mailbot.reading.amounts import as_hours, parse_amount

# ---------------------------------------------------------------------------------------------
# parse_amount

AMOUNTS = [
    # (text, points_per_hour, unit, expected points or None)
    # plain points
    ("90", 60, "points", 90),
    (" 90 ", 60, "points", 90),
    ("1", 60, "points", 1),
    ("90 points", 60, "points", 90),
    ("90 point", 60, "points", 90),
    ("90points", 60, "points", 90),
    ("90 pts", 60, "points", 90),
    ("90 pt", 60, "points", 90),
    ("90 POINTS", 60, "points", 90),
    ("90 unités", 60, "points", 90),
    ("90", 100, "points", 90),  # plain points do not depend on points_per_hour
    # hours and minutes
    ("1h30", 60, "points", 90),
    ("1H30", 60, "points", 90),
    ("1h", 60, "points", 60),
    ("1 h", 60, "points", 60),
    ("1h 30", 60, "points", 90),
    ("1 h 30", 60, "points", 90),
    ("1h30min", 60, "points", 90),
    ("1h30m", 60, "points", 90),
    ("0h45", 60, "points", 45),
    ("1,5h", 60, "points", 90),
    ("1.5h", 60, "points", 90),
    ("0,5h", 60, "points", 30),
    ("2 heures", 60, "points", 120),
    ("1 heure 30", 60, "points", 90),
    ("2 Heures", 60, "points", 120),
    ("2 hours", 60, "points", 120),
    ("1 hour", 60, "points", 60),
    ("2hrs", 60, "points", 120),
    ("45min", 60, "points", 45),
    ("45 min", 60, "points", 45),
    ("45 minutes", 60, "points", 45),
    ("1 minute", 60, "points", 1),
    ("45 mn", 60, "points", 45),
    ("45 MN", 60, "points", 45),
    ("45m", 60, "points", 45),
    # minutes past 59 after the hours are a typo, not an amount to guess at
    ("1h75", 60, "points", None), ("1h60", 60, "points", None), ("1h59", 60, "points", 119),
    # a custom unit name
    ("90 grains", 60, "grains", 90),
    ("90 Grains", 60, "grains", 90),
    ("1h30", 60, "grains", 90),
    ("90 cailloux", 60, "cailloux", 90),
    # other points_per_hour
    ("1h30", 100, "points", 150),
    ("45min", 100, "points", 75),
    ("1h", 100, "points", 100),
    ("1,5h", 100, "points", 150),
    ("1h", 30, "points", 30),
    ("1h30", 30, "points", 45),
    ("3min", 30, "points", 2),  # 1.5 rounds to 2
    # refusals
    ("0", 60, "points", None),
    ("0 points", 60, "points", None),
    ("0h", 60, "points", None),
    ("0min", 60, "points", None),
    ("1min", 30, "points", None),  # half a point rounds to zero: not positive
    ("-5", 60, "points", None),
    ("-1h", 60, "points", None),
    ("abc", 60, "points", None),
    ("", 60, "points", None),
    ("   ", 60, "points", None),
    ("12:30", 60, "points", None),
    ("1/2h", 60, "points", None),
    ("1.5", 60, "points", None),
    ("9 0", 60, "points", None),
    ("90 €", 60, "points", None),
    ("90 grains", 60, "points", None),  # not this list's unit
    ("h30", 60, "points", None),
    ("1h30 points", 60, "points", None),
]


@pytest.mark.parametrize(("text", "points_per_hour", "unit", "expected"), AMOUNTS)
def test_parse_amount(text: str, points_per_hour: int, unit: str, expected: int | None) -> None:
    assert parse_amount(text, points_per_hour, unit) == expected


def test_parse_amount_unit_defaults_to_points() -> None:
    assert parse_amount("90 points", 60) == 90
    assert parse_amount("90 grains", 60) is None


@pytest.mark.parametrize("text", ["9" * 5000, "9" * 400 + "min", "9" * 400 + "h"])
def test_parse_amount_huge_numbers_do_not_raise(text: str) -> None:
    result = parse_amount(text, 60)
    assert result is None or result > 0


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("90 grains", "grain", 90),
    ("1 grain", "grains", 1),
])
def test_parse_amount_custom_unit_singular_and_plural(text: str, unit: str,
                                                      expected: int) -> None:
    assert parse_amount(text, 60, unit) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=100_000), st.sampled_from([60, 100, 30]))
def test_minutes_are_points_at_the_rate(minutes: int, points_per_hour: int) -> None:
    expected = round(minutes * points_per_hour / 60)
    assert parse_amount(f"{minutes}min", points_per_hour) == (expected if expected > 0 else None)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=1_000_000), st.sampled_from([60, 30, 20, 15, 12]))
def test_as_hours_round_trips(points: int, points_per_hour: int) -> None:
    """Exact whenever a point is a whole number of minutes (points_per_hour divides 60)."""
    assert parse_amount(as_hours(points, points_per_hour), points_per_hour) == points


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from([60, 100, 30]))
def test_parse_amount_is_none_or_positive(text: str, points_per_hour: int) -> None:
    result = parse_amount(text, points_per_hour)
    assert result is None or (isinstance(result, int) and result > 0)


# ---------------------------------------------------------------------------------------------
# as_hours

@pytest.mark.parametrize(("points", "points_per_hour", "expected"), [
    (90, 60, "1h30"),
    (60, 60, "1h"),
    (45, 60, "0h45"),
    (5, 60, "0h05"),
    (0, 60, "0h"),
    (-30, 60, "-0h30"),
    (-90, 60, "-1h30"),
    (-120, 60, "-2h"),
    (1440, 60, "24h"),
    (150, 100, "1h30"),
    (100, 100, "1h"),
    (30, 30, "1h"),
    (45, 30, "1h30"),
])
def test_as_hours(points: int, points_per_hour: int, expected: str) -> None:
    assert as_hours(points, points_per_hour) == expected


# ---------------------------------------------------------------------------------------------
# refuse_transfer

DEFAULT = Limits(min_balance=-1200, max_balance=2400)


@pytest.mark.parametrize(("payer", "payee", "amount", "payer_balance", "payee_balance",
                          "limits", "expected"), [
    ("a@x", "b@x", 0, 0, 0, DEFAULT, "not-positive"),
    ("a@x", "b@x", -10, 0, 0, DEFAULT, "not-positive"),
    ("a@x", "a@x", 0, 0, 0, DEFAULT, "not-positive"),  # checked before to-self
    ("a@x", "a@x", 10, 0, 0, DEFAULT, "to-self"),
    ("a@x", "b@x", 1200, 0, 0, DEFAULT, None),  # lands exactly on the minimum
    ("a@x", "b@x", 1201, 0, 0, DEFAULT, "below-minimum"),
    ("a@x", "b@x", 1, -1200, 0, DEFAULT, "below-minimum"),
    ("a@x", "b@x", 100, -1100, 0, DEFAULT, None),
    ("a@x", "b@x", 101, -1100, 0, DEFAULT, "below-minimum"),
    ("a@x", "b@x", 2400, 1200, 0, DEFAULT, None),  # payee lands exactly on the maximum
    ("a@x", "b@x", 2401, 1201, 0, DEFAULT, "above-maximum"),
    ("a@x", "b@x", 1, 0, 2400, DEFAULT, "above-maximum"),
    ("a@x", "b@x", 100, 0, 2300, DEFAULT, None),
    ("a@x", "b@x", 101, 0, 2300, DEFAULT, "above-maximum"),
    ("a@x", "b@x", 2000, 0, 1000, DEFAULT, "below-minimum"),  # both crossed: payer first
    ("a@x", "b@x", 90, 0, 0, DEFAULT, None),
    ("a@x", "b@x", 10, 0, 0, Limits(0, 0), "below-minimum"),
    ("a@x", "b@x", 10, 10, 0, Limits(0, 10), None),
    ("a@x", "b@x", 10, 10, 1, Limits(0, 10), "above-maximum"),
])
def test_refuse_transfer(payer: str, payee: str, amount: int, payer_balance: int,
                         payee_balance: int, limits: Limits, expected: str | None) -> None:
    assert refuse_transfer(payer, payee, amount, payer_balance, payee_balance,
                           limits) == expected


MEMBERS = [f"m{i}@example.org" for i in range(5)]
ATTEMPTS = st.lists(st.tuples(st.sampled_from(MEMBERS), st.sampled_from(MEMBERS),
                              st.integers(min_value=1, max_value=3000)), max_size=60)
RANDOM_LIMITS = st.builds(Limits, st.integers(min_value=-5000, max_value=0),
                          st.integers(min_value=0, max_value=5000))


def _check_ledger(attempts: list[tuple[str, str, int]], limits: Limits) -> None:
    balances = dict.fromkeys(MEMBERS, 0)
    for payer, payee, amount in attempts:
        refusal = refuse_transfer(payer, payee, amount, balances[payer], balances[payee],
                                  limits)
        if refusal is None:
            assert payer != payee
            balances[payer] -= amount
            balances[payee] += amount
        else:
            assert refusal in {"to-self", "below-minimum", "above-maximum"}
        assert sum(balances.values()) == 0
        assert all(limits.min_balance <= b <= limits.max_balance for b in balances.values())


@settings(max_examples=200, deadline=None)
@given(ATTEMPTS)
def test_ledger_invariants_default_limits(attempts: list[tuple[str, str, int]]) -> None:
    _check_ledger(attempts, DEFAULT)


@settings(max_examples=200, deadline=None)
@given(ATTEMPTS, RANDOM_LIMITS)
def test_ledger_invariants_random_limits(attempts: list[tuple[str, str, int]],
                                         limits: Limits) -> None:
    _check_ledger(attempts, limits)


@pytest.mark.parametrize(("written", "memo"), [
    ("jardinage", "jardinage"), ("pour le jardinage", "le jardinage"),
    ("pour : jardinage", "jardinage"), ("for the gardening", "the gardening"),
    ("« repassage »", "repassage"), ("", ""), ("pourboire", "pourboire")])
def test_a_memo_loses_the_for_the_templates_say(written: str, memo: str) -> None:
    from mailbot.exchange.ledger import memo_of

    assert memo_of(written) == memo
