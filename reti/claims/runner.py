"""Run claims by name, report progress, and write the report after every claim."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from reti.claims.base import Budget, Claim, Finding
from reti.claims.registry import CLAIMS
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
    seed: int = 0,
    out: str | Path | None = None,
    quiet: bool = False,
    lang: str | None = None,
    progress: Progress | None = None,
    device: str = "cpu",
) -> tuple[Path, list[tuple[Claim, Finding, float]]]:
    """Run the chosen claims and write ``report.md`` / ``report.html``; return the folder.
    ``device`` is where the claims that train through ``fit`` or a language model compute.

    ``progress(i, n, claim, finding, seconds)`` is called before (finding None) and after each
    claim; by default progress goes to stderr unless ``quiet``.
    """
    lang = resolve_lang(lang)
    device = resolve_device(device)  # a bad name fails before any folder is made
    chosen = select(names)
    root = Path(out) if out else Path("runs/claims") / _dt.date.today().isoformat()
    root.mkdir(parents=True, exist_ok=True)
    budget = Budget(quick=quick, seed=seed, device=str(device), lang=lang)
    show = None if quiet else (progress or stderr_progress())
    done: list[tuple[Claim, Finding, float]] = []
    for i, claim in enumerate(chosen, 1):
        if show:
            show(i, len(chosen), claim, None, 0.0)
        start = time.perf_counter()
        torch.manual_seed(seed)
        finding = claim.run(budget, root)
        seconds = time.perf_counter() - start
        finding.experiment += " " + text("claims.ran_in", lang, seconds=f"{seconds:.1f}")
        done.append((claim, finding, seconds))
        header = text(
            "claims.header", lang, budget=text(f"claims.budget.{'quick' if quick else 'full'}",
            lang), seed=seed, torch=torch.__version__, machine=platform.machine(),
            threads=torch.get_num_threads(), when=_dt.datetime.now().isoformat(timespec="seconds"),
        )  # fmt: skip
        write_report(root, [(c, f) for c, f, _ in done], header, lang)  # partial progress shows
        if show:
            show(i, len(chosen), claim, finding, seconds)
    return root, done
