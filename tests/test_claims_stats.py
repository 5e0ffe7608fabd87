"""The verdict rule of the claims: the t table against a numerical integral of the t density,
and the three verdicts on constructed per-seed numbers, paired and unpaired (Welch), with the
intervals worked out by hand."""

from __future__ import annotations

import math

import pytest

from reti.claims.stats import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    Effect,
    combine,
    compare_arms,
    decide,
    difference_interval,
    t_quantile,
)

UP = Effect("accuracy", "a", "b", 0.02, "2 points")
SAME = Effect("accuracy", "a", "b", 0.02, "2 points", kind="equivalence")


def _t_mass(q: float, df: int, steps: int = 4000) -> float:
    """P(|T| <= q) for Student's t with df degrees of freedom, by Simpson's rule."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    f = lambda t: c * (1 + t * t / df) ** (-(df + 1) / 2)  # noqa: E731
    h = 2 * q / steps
    total = f(-q) + f(q) + sum((4 if i % 2 else 2) * f(-q + i * h) for i in range(1, steps))
    return total * h / 3


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40, 60, 120])
def test_t_table_leaves_two_and_a_half_percent_in_each_tail(df):
    assert _t_mass(t_quantile(df), df) == pytest.approx(0.95, abs=3e-4)


def test_t_quantile_rounds_a_fractional_df_down_and_refuses_df_below_one():
    assert t_quantile(4.9) == t_quantile(4) == 2.776
    assert t_quantile(35) == t_quantile(30) and t_quantile(1000) == 1.96
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0.5)


def test_paired_interval_holds_by_hand():
    # d = [0.05, 0.04, 0.05]: mean 0.046667, sd 0.0057735, se 0.0033333, t(2) = 4.303
    iv = difference_interval([0.80, 0.82, 0.81], [0.75, 0.78, 0.76], paired=True)
    assert (iv.diff, iv.df, iv.t) == (pytest.approx(0.0466667), 2, 4.303)
    assert iv.low == pytest.approx(0.0323233, abs=1e-6)
    assert iv.high == pytest.approx(0.0610100, abs=1e-6)
    assert decide(iv, UP) == HOLDS


def test_paired_does_not_hold_the_other_way_or_inside_the_band():
    # d = [-0.10, -0.09, -0.11]: mean -0.1, se 0.0057735, half-width 0.024844
    other = difference_interval([0.70, 0.71, 0.69], [0.80, 0.80, 0.80], paired=True)
    assert (other.low, other.high) == (pytest.approx(-0.124844, abs=1e-6),
                                       pytest.approx(-0.075156, abs=1e-6))  # fmt: skip
    assert decide(other, UP) == FAILS
    # d = [0.001, 0, 0.002]: mean 0.001, se 0.00057735 -> [-0.0014843, 0.0034843], no effect
    none = difference_interval([0.801, 0.800, 0.802], [0.800, 0.800, 0.800], paired=True)
    assert none.low == pytest.approx(-0.0014843, abs=1e-6)
    assert decide(none, UP) == FAILS and decide(none, SAME) == HOLDS


def test_paired_inconclusive_by_hand():
    # d = [0.05, -0.01, 0.03]: mean 0.023333, sd 0.0305505, se 0.0176383 -> half 0.075898
    iv = difference_interval([0.85, 0.79, 0.83], [0.80, 0.80, 0.80], paired=True)
    assert iv.low == pytest.approx(-0.052565, abs=1e-5)
    assert iv.high == pytest.approx(0.099232, abs=1e-5)
    assert decide(iv, UP) == INCONCLUSIVE and decide(iv, SAME) == INCONCLUSIVE


def test_pairing_by_seed_decides_where_welch_cannot():
    a, b = [0.90, 0.80, 0.70], [0.85, 0.75, 0.65]  # every seed gains exactly 0.05
    paired = difference_interval(a, b, paired=True)
    assert paired.low == pytest.approx(0.05) and paired.high == pytest.approx(0.05)
    assert decide(paired, UP) == HOLDS
    # Welch: var 0.01 each, se = sqrt(2 * 0.01 / 3) = 0.0816497, df = 4, t = 2.776
    welch = difference_interval(a, b, paired=False)
    assert welch.df == pytest.approx(4.0) and welch.t == 2.776
    assert welch.low == pytest.approx(0.05 - 2.776 * 0.0816497, abs=1e-6)
    assert decide(welch, UP) == INCONCLUSIVE


def test_welch_holds_and_does_not_hold_by_hand():
    # means 0.91 vs 0.81, var 1e-4 each: se 0.0081650, df 4, t 2.776 -> 0.1 ± 0.022666
    iv = difference_interval([0.90, 0.91, 0.92], [0.80, 0.81, 0.82], paired=False)
    assert (iv.low, iv.high) == (pytest.approx(0.077334, abs=1e-6),
                                 pytest.approx(0.122666, abs=1e-6))  # fmt: skip
    assert decide(iv, UP) == HOLDS
    down = difference_interval([0.80, 0.81, 0.82], [0.90, 0.91, 0.92], paired=False)
    assert decide(down, UP) == FAILS
    assert decide(down, Effect("error", "a", "b", 0.02, "r", higher=False)) == HOLDS


def test_welch_with_unequal_arms_rounds_its_df_down():
    # va = 0.000166667/4, vb = 0.0002/2: df = 1.897 -> t(1) = 12.706: wide, inconclusive
    iv = difference_interval([0.90, 0.91, 0.92, 0.93], [0.80, 0.82], paired=False)
    assert iv.df == pytest.approx(1.8972, abs=1e-3) and iv.t == 12.706
    assert iv.low == pytest.approx(0.105 - 12.706 * 0.0119024, abs=1e-5)
    assert decide(iv, UP) == INCONCLUSIVE


def test_equivalence_fails_when_the_interval_lies_outside_the_band():
    iv = difference_interval([0.90, 0.91, 0.92], [0.80, 0.81, 0.82], paired=True)
    assert decide(iv, SAME) == FAILS


def test_one_value_per_arm_cannot_decide_and_bad_input_is_refused():
    iv = difference_interval([0.9], [0.1], paired=True)
    assert math.isinf(iv.low) and decide(iv, UP) == INCONCLUSIVE
    with pytest.raises(ValueError, match="paired arms need as many values"):
        difference_interval([1.0, 2.0], [1.0], paired=True)
    with pytest.raises(ValueError, match="smallest effect must be > 0"):
        Effect("x", "a", "b", 0.0, "none")


def test_compare_arms_and_combine():
    c = compare_arms(UP, [0.80, 0.82, 0.81], [0.75, 0.78, 0.76], paired=True, seeds=[0, 1, 2])
    assert c.verdict == HOLDS and c.seeds == [0, 1, 2] and c.interval.paired
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, FAILS, HOLDS]) == FAILS
