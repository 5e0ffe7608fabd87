"""``reti claims list`` and ``reti claims run [NAME...] [--quick|--full] [--seed S] [--lang L]``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti claims``."""
    p = sub.add_parser("claims", help="re-run the notes' claims as experiments")
    cs = p.add_subparsers(dest="claims_command", metavar="ACTION")
    ls = cs.add_parser("list", help="list the claims with their line in the notes")
    ls.add_argument(
        "--lang",
        choices=("en", "it"),
        default=None,
        help="The list's language, en or it. Default: $RETI_LANG, the locale, then English.",
    )
    ls.set_defaults(func=_list)
    run = cs.add_parser("run", help="run claims and write a report (md + html)")
    run.add_argument("names", nargs="*", help="Claim names or numbers. Default: all claims.")
    budget = run.add_mutually_exclusive_group()
    budget.add_argument(
        "--quick",
        dest="quick",
        action="store_true",
        default=True,
        help="A small budget that fits a 2-core CPU. Default.",
    )
    budget.add_argument(
        "--full",
        dest="quick",
        action="store_false",
        help="Bigger budgets: more data, epochs and seeds.",
    )
    run.add_argument("--seed", type=int, default=0, help="The seed of every claim. Default: 0.")
    run.add_argument("--out", default=None, help="The report folder. Default: runs/claims/DATE.")
    run.add_argument("--quiet", action="store_true", help="Print no progress lines.")
    run.add_argument(
        "--device",
        default="auto",
        help="Where the claims that train compute: auto (default), cpu, cuda, cuda:N or mps.",
    )
    run.add_argument(
        "--lang",
        choices=("en", "it"),
        default=None,
        help="The report's language, en or it. Default: $RETI_LANG, the locale, then English.",
    )
    run.set_defaults(func=_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _list(args: argparse.Namespace) -> int:
    from reti.claims import CLAIMS
    from reti.claims.report import statement
    from reti.i18n import text

    print(text("claims.list.head", args.lang))
    for i, claim in enumerate(CLAIMS, 1):
        print(f"{i:2d}. {claim.line:4d}  {claim.name:32s} {statement(claim, args.lang)}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from reti.claims import run_claims
    from reti.claims.registry import number
    from reti.claims.report import verdict_text
    from reti.i18n import text
    from reti.io import ensure_dir

    if args.out:
        ensure_dir(args.out, create=False)  # a file in the way fails before any claim runs
    root, done = run_claims(
        args.names, args.quick, args.seed, args.out, args.quiet, args.lang, device=args.device
    )
    for claim, finding, seconds in done:
        verdict = verdict_text(finding.verdict, args.lang)
        print(f"{number(claim):2d}. {claim.name:32s} {verdict:20s} {seconds:6.1f} s")
    print(text("claims.report_at", args.lang, md=root / "report.md", html=root / "report.html"))
    return 0
