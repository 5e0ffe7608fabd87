"""Seed sets: confirmation seeds disjoint from every pilot's, K disjoint sets per claim, and the
line that says whether they agree.

Set ``j`` (0-based) of a claim starts at ``seed + j * span``, where ``span`` is how many
consecutive seeds one run of the claim uses at the budget (the power rule's count): the sets are
consecutive and never share a seed. A claim whose verdict does not depend on seeds (an exact
check) runs once, whatever K is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reti.claims.base import CONFIRM_SEED, Claim, Finding
from reti.claims.render import seed_range, verdict_text
from reti.claims.stats import VERDICTS
from reti.errors import ConfigError
from reti.i18n import text


def seed_sets(claim: Claim, quick: bool, seed: int, replicate: int) -> list[list[int]]:
    """The seeds of each of the claim's sets (one set for a claim that does not replicate)."""
    span = claim.span(quick)
    sets = replicate if claim.seeded else 1
    return [[seed + j * span + i for i in range(span)] for j in range(sets)]


def check_seeds(claims: list[Claim], quick: bool, seed: int, replicate: int, number) -> None:
    """Refuse a run whose seeds overlap a claim's pilot seeds (``number(claim)``: its number)."""
    if replicate < 1:
        raise ConfigError(f"--replicate must be >= 1, got {replicate}")
    if seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {seed}")
    for claim in claims:
        used = {s for seeds in seed_sets(claim, quick, seed, replicate) for s in seeds}
        overlap = used & set(claim.pilot_seeds)
        if claim.seeded and overlap:
            raise ConfigError(
                f"seeds {seed_range(used)} overlap the pilot seeds {seed_range(claim.pilot_seeds)}"
                f" of claim {number(claim)} {claim.name!r}: a seed that chose the recipe never "
                f"confirms it; use --seed {max(claim.pilot_seeds) + 1} or more "
                f"(default {CONFIRM_SEED})"
            )


@dataclass
class SeedSet:
    """One run of a claim on one set of seeds."""

    seeds: list[int]
    finding: Finding
    seconds: float


@dataclass
class Outcome:
    """A claim's runs: one set, or K disjoint sets with ``--replicate K``."""

    claim: Claim
    sets: list[SeedSet]

    @property
    def finding(self) -> Finding:
        """The first set's finding (the one the report shows in full)."""
        return self.sets[0].finding

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.sets)

    @property
    def verdicts(self) -> list[str]:
        return [s.finding.verdict for s in self.sets]

    @property
    def settled(self) -> bool:
        """All sets reach the same verdict."""
        return len(set(self.verdicts)) == 1

    def verdict_label(self, lang: str | None = None) -> str:
        """The verdict of one set, or the summary line of several (``3/3 holds``)."""
        if len(self.sets) == 1:
            return verdict_text(self.finding.verdict, lang)
        return summary_line(self.verdicts, lang)


def summary_counts(verdicts: list[str]) -> list[tuple[int, str]]:
    """``[(3, "holds")]`` or ``[(2, "holds"), (1, "inconclusive")]``, most frequent first
    (ties in the order of ``VERDICTS``)."""
    counts = Counter(verdicts)
    return sorted(((n, v) for v, n in counts.items()), key=lambda t: (-t[0], VERDICTS.index(t[1])))


def summary_line(verdicts: list[str], lang: str | None = None) -> str:
    """``3/3 holds`` when every set agrees; else ``2/3 holds, 1/3 inconclusive: unsettled``."""
    k = len(verdicts)
    parts = ", ".join(f"{n}/{k} {verdict_text(v, lang)}" for n, v in summary_counts(verdicts))
    return parts if len(set(verdicts)) == 1 else text("claims.unsettled", lang, counts=parts)
