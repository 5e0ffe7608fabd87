"""What a claim is, what its run returns, and the verdict rules written before any run.

A claim quotes the notes (Italian) with an English line, describes its experiment, and returns
a ``Finding``: measured numbers, a figure, and a verdict decided by a rule fixed in code —
never by hand. The rules (notes: every claim of the course is checked the same way):

* ``compare``: "A beats B" holds when the gap between the means is larger than the
  seed-to-seed spread (the largest max-min range of either side) and points the right way;
  it does not hold when the gap is that large the other way; else it is inconclusive.
* ``exact``: holds when the computed value equals the expected one.
* ``within``: holds when |a - b| <= tolerance.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOLDS = "holds"
FAILS = "does not hold here"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE)


@dataclass
class Budget:
    """How much a claim may spend: ``quick`` fits a 2-core CPU in about a minute per claim."""

    quick: bool = True
    seed: int = 0
    device: str = "cpu"

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(3 if self.quick else 5)]

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

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass(frozen=True)
class Claim:
    """One statement of the notes and the experiment that checks it."""

    name: str
    section: str
    quote: str
    english: str
    run: Callable[[Budget, Path], Finding]


def spread(values: Sequence[float]) -> float:
    """Seed-to-seed spread: max - min (0 for a single value)."""
    return max(values) - min(values) if len(values) > 1 else 0.0


def compare(better: Sequence[float], worse: Sequence[float], higher_is_better: bool) -> str:
    """Verdict for "``better`` beats ``worse``" by the gap-versus-spread rule above."""
    gap = statistics.fmean(better) - statistics.fmean(worse)
    if not higher_is_better:
        gap = -gap
    noise = max(spread(better), spread(worse))
    if gap > noise and gap > 0:
        return HOLDS
    if -gap > noise and gap < 0:
        return FAILS
    return INCONCLUSIVE


COMPARE_RULE = (
    "holds if the gap between the means exceeds the seed-to-seed spread (max-min over seeds) "
    "in the claimed direction; does not hold if it exceeds it the other way; else inconclusive"
)


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
