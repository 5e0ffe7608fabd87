"""The verdict rule, fixed before any run: a 95% t interval of a difference against the
smallest effect that matters.

Each compared claim names its primary figure and the smallest difference in it that matters
(an :class:`Effect`, written in the claim with a reason). The per-seed results of the two arms
give a 95% confidence interval of the difference ``a - b``: a paired t interval when the arms
share seeds (one difference per seed), else Welch's unequal-variance t interval. Then

* ``difference`` effects: *holds* when the interval lies wholly beyond ``+smallest`` in the
  claimed direction; *does not hold here* when it lies wholly beyond ``-smallest`` the other
  way, or wholly inside the no-effect band ``[-smallest, +smallest]``; else *inconclusive*.
* ``equivalence`` effects ("A and B agree"): *holds* when the interval lies wholly inside the
  band; *does not hold here* when it lies wholly outside it; else *inconclusive*.

The t quantiles come from a table (two-sided 95%, i.e. the 0.975 quantile); a fractional
Welch df is rounded down, which widens the interval (the conservative side).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

HOLDS = "holds"
FAILS = "does not hold here"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE)

# 0.975 quantile of Student's t with df degrees of freedom (df 1-30, then 40, 60, 120, inf).
T975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}  # fmt: skip
Z975 = 1.960


def t_quantile(df: float) -> float:
    """The 0.975 quantile of t with ``df`` degrees of freedom (rounded down to the table)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df > 120:
        return Z975
    return T975[max(k for k in T975 if k <= math.floor(df))]


@dataclass(frozen=True)
class Pilot:
    """What a pilot (a run that chose a recipe, a budget or a seed count) measured of one
    effect: its seeds, and the mean and SD of the per-seed differences ``a - b``.

    A pilot's seeds never confirm: ``reti claims run`` refuses a seed range overlapping them.
    """

    seeds: tuple[int, ...]
    mean: float
    sd: float
    source: str  # how it was measured: budget, date, command, or the interval it came from
    diffs: tuple[float, ...] = ()  # the per-seed differences, where they were recorded

    def __post_init__(self) -> None:
        if len(self.seeds) < 2 or not self.sd >= 0:
            raise ValueError(f"a pilot needs >= 2 seeds and an SD >= 0, got {self}")

    @classmethod
    def from_diffs(cls, seeds, diffs, source: str) -> Pilot:
        """From the per-seed differences themselves (one per seed)."""
        diffs = tuple(float(d) for d in diffs)
        if len(diffs) != len(seeds):
            raise ValueError(f"one difference per seed: {len(seeds)} seeds, {len(diffs)} values")
        return cls(tuple(seeds), statistics.fmean(diffs), statistics.stdev(diffs), source, diffs)

    @classmethod
    def from_interval(cls, seeds, mean: float, low: float, high: float, source: str) -> Pilot:
        """From a recorded paired 95% interval ``[low, high]`` of ``n = len(seeds)`` seeds:
        ``sd = (high - low) / 2 * sqrt(n) / t(0.975, n - 1)``."""
        n = len(seeds)
        sd = (high - low) / 2 * math.sqrt(n) / t_quantile(n - 1)
        return cls(tuple(seeds), float(mean), sd, source)


@dataclass(frozen=True)
class Effect:
    """A claim's primary figure and the smallest difference ``a - b`` in it that matters.

    ``higher``: the claim says ``a - b`` is positive (False: negative). ``kind``:
    ``"difference"`` (a beats b) or ``"equivalence"`` (a and b agree within ``smallest``).
    """

    figure: str
    a: str
    b: str
    smallest: float
    reason: str
    higher: bool = True
    kind: str = "difference"
    unit: str = ""
    quick_pilot: Pilot | None = None  # the figures the power rule sizes the seeds from
    full_pilot: Pilot | None = None

    def __post_init__(self) -> None:
        if not self.smallest > 0:
            raise ValueError(f"smallest effect must be > 0, got {self.smallest}")
        if self.kind not in ("difference", "equivalence"):
            raise ValueError(f"kind must be 'difference' or 'equivalence', got {self.kind!r}")


@dataclass(frozen=True)
class Interval:
    """The 95% interval of the mean difference ``a - b``."""

    diff: float
    low: float
    high: float
    df: float
    t: float
    paired: bool


def difference_interval(a: Sequence[float], b: Sequence[float], *, paired: bool) -> Interval:
    """95% t interval of mean(a) - mean(b): paired (one difference per shared seed) or Welch.

    With fewer than two values a side (or pair) the interval is unbounded.
    """
    a, b = [float(v) for v in a], [float(v) for v in b]
    if paired:
        if len(a) != len(b):
            raise ValueError(f"paired arms need as many values, got {len(a)} and {len(b)}")
        d = [x - y for x, y in zip(a, b)]
        mean = statistics.fmean(d)
        if len(d) < 2:
            return Interval(mean, -math.inf, math.inf, 0.0, math.inf, True)
        df = len(d) - 1
        se = statistics.stdev(d) / math.sqrt(len(d))
    else:
        mean = statistics.fmean(a) - statistics.fmean(b)
        if len(a) < 2 or len(b) < 2:
            return Interval(mean, -math.inf, math.inf, 0.0, math.inf, False)
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        se = math.sqrt(va + vb)
        # Welch-Satterthwaite; equal arms with no spread at all: the interval is the point
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1.0
    t = t_quantile(max(df, 1.0))
    return Interval(mean, mean - t * se, mean + t * se, df, t, paired)


def decide(interval: Interval, effect: Effect) -> str:
    """The verdict of the rule above for one interval."""
    low, high = (interval.low, interval.high) if effect.higher else (-interval.high, -interval.low)
    s = effect.smallest
    if effect.kind == "equivalence":
        if -s <= low and high <= s:
            return HOLDS
        return FAILS if low > s or high < -s else INCONCLUSIVE
    if low > s:
        return HOLDS
    if high < -s or (-s <= low and high <= s):
        return FAILS
    return INCONCLUSIVE


@dataclass
class Comparison:
    """One effect tested on per-seed values of its two arms."""

    effect: Effect
    a: list[float]
    b: list[float]
    interval: Interval
    verdict: str
    seeds: list[int] = field(default_factory=list)


def compare_arms(
    effect: Effect, a: Sequence[float], b: Sequence[float], *, paired: bool, seeds=()
) -> Comparison:
    """Test ``effect`` on the per-seed values of arm a and arm b."""
    interval = difference_interval(a, b, paired=paired)
    return Comparison(effect, list(a), list(b), interval, decide(interval, effect), list(seeds))


def combine(verdicts: Sequence[str]) -> str:
    """A claim of several parts: holds if all hold, does not hold if one fails, else
    inconclusive."""
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    return FAILS if FAILS in verdicts else INCONCLUSIVE
