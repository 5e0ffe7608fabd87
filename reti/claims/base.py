"""What a claim is, what its run returns, and the budget it runs on.

A claim quotes the notes (Italian) at a line, says it in one English line, names the effects it
tests (:class:`~reti.claims.stats.Effect`: primary figure, smallest effect that matters, why),
and returns a ``Finding``: measured numbers, a figure, and a verdict decided by a rule fixed in
code before the run — never by hand. Compared claims use ``reti.claims.stats`` (a 95% t interval
of the difference against the smallest effect); exact claims use ``exact`` / ``within``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reti.claims.power import DEFAULT_SEEDS, Plan, seed_count
from reti.claims.render import finding_html
from reti.claims.stats import FAILS, HOLDS, INCONCLUSIVE, VERDICTS, Comparison, Effect

__all__ = [
    "CONFIRM_SEED", "FAILS", "HOLDS", "INCONCLUSIVE", "VERDICTS", "Budget", "Claim", "Finding",
    "exact", "mean_std", "within",
]  # fmt: skip

# Confirmation seeds start here: every pilot so far looked at seeds 0-7 (claims record theirs).
CONFIRM_SEED = 100


@dataclass
class Budget:
    """How much a claim may spend: ``quick`` fits a 2-core CPU (all claims in < 10 minutes).
    Its seeds are ``seed, seed + 1, ...``: as many as the power rule (``reti.claims.power``)
    asks for an effect, or ``DEFAULT_SEEDS`` for a claim with no planned effect."""

    quick: bool = True
    seed: int = CONFIRM_SEED
    device: str = "cpu"
    lang: str | None = None

    @property
    def seeds(self) -> list[int]:
        """The seeds of a claim whose verdict no pilot planned (exact, or a per-seed rule)."""
        return [self.seed + i for i in range(DEFAULT_SEEDS[self.quick])]

    def seeds_for(self, *effects: Effect) -> list[int]:
        """The seeds of arms that test ``effects`` on the same runs: the power rule's count
        (the largest any of them asks for)."""
        return [self.seed + i for i in range(seed_count(effects, self.quick))]

    def pick(self, quick, full):
        """``quick`` or ``full`` depending on the budget."""
        return quick if self.quick else full


@dataclass
class Finding:
    """The outcome of one claim's experiment."""

    verdict: str
    rule: str
    numbers: list[dict] = field(default_factory=list)
    summary: str = ""
    figure: Path | None = None
    experiment: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)  # the power rule per effect, for the report

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def _repr_html_(self) -> str:
        """In a notebook: verdict, rule, intervals, numbers and the figure inline."""
        return finding_html(self)


@dataclass(frozen=True)
class Claim:
    """One statement of the notes (at ``line`` of course-notes.md) and the experiment that
    checks it."""

    name: str
    section: str
    line: int
    quote: str
    english: str
    run: Callable[[Budget, Path], Finding]
    effects: tuple[Effect, ...] = ()
    pilot_seeds: tuple[int, ...] = ()  # every seed a pilot of this claim looked at

    def __post_init__(self) -> None:
        for e in self.effects:
            for pilot in (e.quick_pilot, e.full_pilot):
                if pilot is not None and not set(pilot.seeds) <= set(self.pilot_seeds):
                    raise ValueError(
                        f"claim {self.name!r}: the pilot of {e.figure!r} ran seeds "
                        f"{list(pilot.seeds)}, not all recorded in pilot_seeds"
                    )

    @property
    def seeded(self) -> bool:
        """Whether its verdict depends on seeds (compared, or a per-seed rule): it replicates."""
        return bool(self.effects or self.pilot_seeds)

    def span(self, quick: bool) -> int:
        """How many consecutive seeds one run of this claim uses at a budget."""
        return seed_count(self.effects, quick)


def exact(value, expected) -> str:
    """``holds`` when ``value == expected``."""
    return HOLDS if value == expected else FAILS


def within(a: float, b: float, tolerance: float) -> str:
    """``holds`` when ``|a - b| <= tolerance``."""
    return HOLDS if abs(a - b) <= tolerance else FAILS


def mean_std(values: Sequence[float]) -> str:
    """``0.912 ± 0.004`` for a list of seed results."""
    if len(values) == 1:
        return f"{values[0]:.4g}"
    return f"{statistics.fmean(values):.4g} ± {statistics.stdev(values):.2g}"
