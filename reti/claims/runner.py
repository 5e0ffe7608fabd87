"""Run claims by name, report progress, and write the report after every claim."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from reti.claims.base import CONFIRM_SEED, Budget, Claim, Finding
from reti.claims.power import plan
from reti.claims.registry import CLAIMS
from reti.claims.registry import number as claim_number
from reti.claims.replicate import Outcome, SeedSet, check_seeds, seed_sets
from reti.claims.report import write_report
from reti.errors import ConfigError
from reti.i18n import resolve_lang, text
from reti.runtime import resolve_device

Progress = Callable[[int, int, Claim, Finding | None, float], None]


def select(names: list[str] | None) -> list[Claim]:
    """The claims named (by name or 1-based number, in the order given), or all of them."""
    if not names:
        return list(CLAIMS)
    by_name = {c.name: c for c in CLAIMS}
    chosen = []
    for name in names:
        if name.isdigit() and 1 <= int(name) <= len(CLAIMS):
            chosen.append(CLAIMS[int(name) - 1])
        elif name in by_name:
            chosen.append(by_name[name])
        else:
            known = ", ".join(f"{i}={c.name!r}" for i, c in enumerate(CLAIMS, 1))
            raise ConfigError(f"unknown claim {name!r}; known: {known}")
    return chosen


def stderr_progress(stream=None) -> Progress:
    """Progress on ``stream`` (stderr): a bar redrawn in place on a terminal, one plain line
    per claim otherwise (no carriage returns in logs)."""
    stream = stream or sys.stderr
    tty = stream.isatty()

    def report(i: int, n: int, claim: Claim, finding: Finding | None, seconds: float) -> None:
        if finding is None:
            if tty:
                stream.write(f"\r\033[K[{i}/{n}] {claim.name} ...")
                stream.flush()
            return
        end = "\r\033[K" if tty else ""
        stream.write(f"{end}[{i}/{n}] {claim.name}: {finding.verdict} ({seconds:.0f} s)\n")
        stream.flush()

    return report


def run_claims(
    names: list[str] | None = None,
    quick: bool = True,
    seed: int = CONFIRM_SEED,
    out: str | Path | None = None,
    quiet: bool = False,
    lang: str | None = None,
    progress: Progress | None = None,
    device: str = "cpu",
    replicate: int = 1,
) -> tuple[Path, list[Outcome]]:
    """Run the chosen claims and write ``report.md`` / ``report.html``; return the folder and
    one :class:`Outcome` per claim. ``device`` is where the claims that train through ``fit`` or
    a language model compute.

    Each claim's seeds start at ``seed`` (refused where they overlap its pilot seeds); with
    ``replicate`` K, a claim whose verdict depends on seeds runs on K disjoint seed sets (set j
    writes its figures under ``set<j+1>/``), exact claims once. ``progress(i, n, claim,
    finding, seconds)`` is called before (finding None) and after each run; by default progress
    goes to stderr unless ``quiet``.
    """
    lang = resolve_lang(lang)
    device = resolve_device(device)  # a bad name fails before any folder is made
    chosen = select(names)
    check_seeds(chosen, quick, seed, replicate, claim_number)  # before any folder is made
    root = Path(out) if out else Path("runs/claims") / _dt.date.today().isoformat()
    root.mkdir(parents=True, exist_ok=True)
    show = None if quiet else (progress or stderr_progress())
    done: list[Outcome] = []
    for i, claim in enumerate(chosen, 1):
        outcome = Outcome(claim, [])
        done.append(outcome)
        for j, seeds in enumerate(seed_sets(claim, quick, seed, replicate)):
            if show:
                show(i, len(chosen), claim, None, 0.0)
            budget = Budget(quick=quick, seed=seeds[0], device=str(device), lang=lang)
            folder = root if j == 0 else root / f"set{j + 1}"
            folder.mkdir(exist_ok=True)
            start = time.perf_counter()
            torch.manual_seed(budget.seed)
            finding = claim.run(budget, folder)
            seconds = time.perf_counter() - start
            finding.experiment += " " + text("claims.ran_in", lang, seconds=f"{seconds:.1f}")
            finding.plans = [p for p in (plan(e, quick) for e in claim.effects) if p is not None]
            for c in finding.comparisons:  # paired on the set's first seeds, where not recorded
                c.seeds = c.seeds or (seeds[: len(c.a)] if c.interval.paired else [])
            outcome.sets.append(SeedSet(seeds, finding, seconds))
            header = text(
                "claims.header", lang, budget=text(f"claims.budget.{'quick' if quick else 'full'}",
                lang), seed=seed, torch=torch.__version__, machine=platform.machine(),
                threads=torch.get_num_threads(),
                when=_dt.datetime.now().isoformat(timespec="seconds"),
            )  # fmt: skip
            write_report(root, done, header, lang)  # partial progress shows
            if show:
                show(i, len(chosen), claim, finding, seconds)
    return root, done
