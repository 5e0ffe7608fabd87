"""How many seeds a compared claim runs: a power rule, written before the confirmation run.

The rule (a precision rule for the confidence interval, the "planning for precision" of
Cumming, *Understanding the New Statistics*, 2012, and Kelley, Maxwell & Rausch 2003):
from a pilot's per-seed differences ``a - b`` (their mean ``m`` and standard deviation ``s``),
take the distance ``d`` from ``m`` to the nearer edge of the band of no effect
``[-smallest, +smallest]`` (the edge the verdict of ``reti.claims.stats`` is decided against),
and choose the smallest number of seeds ``n >= 3`` whose expected 95% half-width

    ``t(0.975, n - 1) * s / sqrt(n) <= d / 2``.

Then, if the true mean difference is the pilot's, the interval is expected to end halfway
between it and the edge: far enough from the edge that a fresh set of seeds decides the same.
``s`` is the pilot's sample SD plugged in for the unknown one (no correction for its own
uncertainty: a small pilot understates it about as often as it overstates it). A budget caps the
count: where the rule asks for more, the claim runs the cap and the report says the rule was not
met (such a claim may well stay inconclusive: that is reported, not tuned away).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reti.claims.stats import Effect, Pilot, t_quantile

MIN_SEEDS = 3  # two seeds give t(1) = 12.7: an interval too wide to plan with
MAX_SEEDS = {True: 12, False: 20}  # quick / full: what a 2-core CPU affords the costliest claim
DEFAULT_SEEDS = {True: 3, False: 5}  # a claim with no pilot-planned effect (exact or per-seed rule)


def distance_to_edge(effect: Effect, mean: float) -> float:
    """``d``: how far the pilot's mean difference lies from the nearer of ``±smallest``."""
    return min(abs(mean - effect.smallest), abs(mean + effect.smallest))


def half_width(sd: float, n: int) -> float:
    """Expected half-width of the paired 95% t interval of ``n`` differences of SD ``sd``."""
    return t_quantile(n - 1) * sd / math.sqrt(n)


@dataclass(frozen=True)
class Plan:
    """The rule worked out for one effect at one budget."""

    effect: Effect
    pilot: Pilot
    distance: float  # d
    target: float  # d / 2, the half-width the rule asks for
    n: int  # the seeds the confirmation runs
    met: bool  # False: the rule asked for more than the budget's cap, which ran instead

    @property
    def expected_half_width(self) -> float:
        return half_width(self.pilot.sd, self.n)


def seeds_needed(effect: Effect, pilot: Pilot, most: int) -> Plan:
    """The smallest ``n`` in ``[MIN_SEEDS, most]`` meeting the rule (``most`` if none does)."""
    if most < MIN_SEEDS:
        raise ValueError(f"the seed cap must be >= {MIN_SEEDS}, got {most}")
    d = distance_to_edge(effect, pilot.mean)
    for n in range(MIN_SEEDS, most + 1):
        if half_width(pilot.sd, n) <= d / 2:
            return Plan(effect, pilot, d, d / 2, n, True)
    return Plan(effect, pilot, d, d / 2, most, False)


def plan(effect: Effect, quick: bool) -> Plan | None:
    """The rule for ``effect`` at the quick or full budget; None where it records no pilot."""
    pilot = effect.quick_pilot if quick else effect.full_pilot
    return None if pilot is None else seeds_needed(effect, pilot, MAX_SEEDS[quick])


def seed_count(effects: tuple[Effect, ...] | list[Effect], quick: bool) -> int:
    """Seeds for arms that share their runs across ``effects``: the most any of them needs."""
    plans = [p for p in (plan(e, quick) for e in effects) if p is not None]
    return max((p.n for p in plans), default=DEFAULT_SEEDS[quick])


# Where the recorded pilots come from (each Effect names its pilot; the claim its pilot seeds).
PILOT_SEEDS = tuple(range(5))  # every run before 2026-12-06 used seeds 0-2 (quick) or 0-4 (full)
QUICK_PILOT = "quick budget, per-seed differences, 2026-12-06"
FULL_PILOT = "full budget, its recorded interval, 2026-11-30"
QUICK_RECORDED = "quick budget, its recorded interval, 2026-11-30"
