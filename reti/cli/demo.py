"""`reti demo`: the README's main job; writes runs/demo/report.md and its figures.

reti demo                      # full budget, a few minutes on 2 CPU cores
reti demo --quick --out DIR    # a small budget, for a smoke run
reti demo --lang it            # the report in Italian
"""

from __future__ import annotations

import argparse
import time

from reti.demo import SectionDone, SectionStarted, run_demo
from reti.i18n import LANGUAGES


def _show(event) -> None:
    """One line as a section starts, one with its headline figure as it ends."""
    if isinstance(event, SectionStarted):
        print(f"[{event.index}/{event.total}] {event.title} ...", flush=True)
    elif isinstance(event, SectionDone):
        print(f"[{event.index}/{event.total}] {event.headline} ({event.seconds:.0f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    report = run_demo(
        args.out, quick=args.quick, lang=args.lang, device=args.device, on_event=_show
    )
    print(f"report: {report} ({time.perf_counter() - start:.0f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = sub.add_parser(
        "demo",
        help="the main job: train the notes' models and write a report",
        description="Train the notes' models section by section and write report.md "
        "with tables and learning curves.",
    )
    parser.add_argument(
        "--out",
        default="runs/demo",
        help="The folder the report and its runs go to. Default: runs/demo.",
    )
    parser.add_argument(
        "--quick",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Train on a small budget (a few minutes on 2 cores). Default: off.",
    )
    parser.add_argument(
        "--lang",
        default=None,
        help=f"The report's language, {' or '.join(LANGUAGES)}. "
        "Default: $RETI_LANG, then the locale, then en.",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="Where to train: auto (default), cpu, cuda, cuda:N or mps.",
    )
    parser.set_defaults(func=run)
