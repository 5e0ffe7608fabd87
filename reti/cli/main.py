"""The ``reti`` command: subcommands from each pipeline; the one place that turns a reti error
into one line on stderr and exit status 2 (bugs still show their traceback)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from reti.cli import augment, claims, data, demo, params, series, text, vision
from reti.cli import lab as lab_cli
from reti.errors import ParseError, RetiError

# Each module adds its subcommand(s) with ``register(subparsers)`` and sets ``func=`` on them.
COMMANDS = (demo, data, params, vision, augment, series, text, claims)
COMMANDS += (lab_cli,)


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, but a usage mistake is one line on stderr (and exit status 2), like
    every other reti error, instead of the whole usage text; ``--help`` still has it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="reti",
        description="The deep-learning course notes as parts you train, run and inspect.",
    )
    from reti import __version__

    parser.add_argument("--version", action="version", version=f"reti {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        result = func(args)
    except RetiError as exc:
        print(f"reti: error: {exc}", file=sys.stderr)
        if isinstance(exc, ParseError):
            print(exc.caret(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reti: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
