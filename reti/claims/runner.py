"""Run claims by name, with a progress bar, and write the report."""

from __future__ import annotations

import datetime as _dt
import platform
import time
from pathlib import Path

import torch
from tqdm import tqdm

from reti.claims.base import Budget, Claim, Finding
from reti.claims.registry import CLAIMS
from reti.claims.report import write_report
from reti.errors import ConfigError


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


def run_claims(
    names: list[str] | None = None,
    quick: bool = True,
    seed: int = 0,
    out: str | Path | None = None,
    quiet: bool = False,
) -> tuple[Path, list[tuple[Claim, Finding, float]]]:
    """Run the chosen claims and write ``report.md`` / ``report.html``; return the folder."""
    chosen = select(names)
    root = Path(out) if out else Path("runs/claims") / _dt.date.today().isoformat()
    root.mkdir(parents=True, exist_ok=True)
    budget = Budget(quick=quick, seed=seed)
    done: list[tuple[Claim, Finding, float]] = []
    bar = tqdm(chosen, desc="claims", disable=quiet, unit="claim")
    for claim in bar:
        bar.set_postfix_str(claim.name)
        start = time.perf_counter()
        torch.manual_seed(seed)
        finding = claim.run(budget, root)
        seconds = time.perf_counter() - start
        finding.experiment += f" Ran in {seconds:.0f} s."
        done.append((claim, finding, seconds))
        header = (
            f"{'quick' if quick else 'full'} budget, seed {seed}, torch {torch.__version__}, "
            f"{platform.machine()} with {torch.get_num_threads()} threads, "
            f"{_dt.datetime.now().isoformat(timespec='seconds')}."
        )
        write_report(root, [(c, f) for c, f, _ in done], header)  # partial progress shows
    return root, done
