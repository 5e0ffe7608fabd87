"""`reti demo`: the README's main job; writes runs/demo/report.md and its figures.

reti demo                      # full budget, a few minutes on 2 CPU cores
reti demo --quick --out DIR    # a small budget, for a smoke run
"""

from __future__ import annotations

import argparse
import time

from reti.demo import run_demo


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    report = run_demo(args.out, quick=args.quick)
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
    parser.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    parser.add_argument(
        "--quick", action=argparse.BooleanOptionalAction, default=False, help="a small budget"
    )
    parser.set_defaults(func=run)
