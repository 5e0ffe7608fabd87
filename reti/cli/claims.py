"""``reti claims list`` and ``reti claims run [NAME...] [--quick|--full] [--seed S]
[--replicate K] [--lang L]``."""

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
    run.add_argument(
        "--seed",
        type=int,
        default=100,
        help="The first confirmation seed of every claim (claims refuse seeds their pilots "
        "used: 0-7). Default: 100.",
    )
    run.add_argument(
        "--replicate",
        type=int,
        default=1,
        metavar="K",
        help="Run each claim whose verdict depends on seeds on K disjoint seed sets and print "
        "each set's verdict and a summary line (3/3 holds). Default: 1.",
    )
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
    from reti.claims.render import seed_range, verdict_text
    from reti.i18n import text
    from reti.io import ensure_dir

    if args.out:
        ensure_dir(args.out, create=False)  # a file in the way fails before any claim runs
    root, done = run_claims(
        args.names, args.quick, args.seed, args.out, args.quiet, args.lang, device=args.device,
        replicate=args.replicate,
    )  # fmt: skip
    for o in done:
        if len(o.sets) > 1:
            for j, s in enumerate(o.sets, 1):
                label = text("claims.cli.set", args.lang, j=j, seeds=seed_range(s.seeds))
                verdict = verdict_text(s.finding.verdict, args.lang)
                print(f"    {label:32s} {verdict:20s} {s.seconds:6.1f} s")
        verdict = o.verdict_label(args.lang)
        print(f"{number(o.claim):2d}. {o.claim.name:32s} {verdict:20s} {o.seconds:6.1f} s")
    print(text("claims.report_at", args.lang, md=root / "report.md", html=root / "report.html"))
    return 0
