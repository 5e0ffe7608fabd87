"""The ``reti`` command: subcommands from each pipeline; the one place that turns an error into
one line on stderr and exit status 2.

What becomes one line: every ``RetiError`` (a ``ParseError`` adds its input and a caret line);
and the failures the machine causes, not reti: a folder that cannot be written (read-only,
no permission), a file where a folder must be, a path too long, a full disk, memory that runs
out (``MemoryError`` or PyTorch's "can't allocate memory"), input nested too deeply
(``RecursionError``). Anything else is a bug and keeps its traceback; ``RETI_DEBUG=1`` shows the
traceback of the one-line errors too. A closed stdout (``reti data list | head -1``) ends quietly.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import re
import sys
from collections.abc import Sequence

from reti.cli import augment, claims, data, demo, lab, notebooks, params, series, text, vision
from reti.errors import ConfigError, ParseError, RetiError
from reti.guards import human_bytes, machine_memory
from reti.jsonio import read_json

# Each module adds its subcommand(s) with ``register(subparsers)`` and sets ``func=`` on them.
COMMANDS = (demo, data, params, vision, augment, series, text, claims, lab, notebooks)
DEBUG_ENV = "RETI_DEBUG"
MAX_LINE = 600  # characters of one error line; longer messages keep their start and end


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, but a usage mistake is one line on stderr (and exit status 2), like
    every other reti error, instead of the whole usage text; ``--help`` still has it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}{_closest(message)} (see {self.prog} --help)\n")


_CHOICE = re.compile(r"invalid choice: '(.*)' \(choose from (.*)\)$")


def _closest(message: str) -> str:
    """``; did you mean 'vision'?`` for a mistyped command or action, else ``""``."""
    found = _CHOICE.search(message)
    if found is None:
        return ""
    choices = [c.strip().strip("'") for c in found.group(2).split(",")]
    close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


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


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _needs_action(parser: argparse.ArgumentParser, argv: list[str]):
    """The (sub)parser ``argv`` names when it stops at a group that needs a command/action."""
    current = parser
    for word in argv:
        sub = _subcommands(current)
        if sub is None or word not in sub.choices:
            return None
        current = sub.choices[word]
    return current if _subcommands(current) is not None else None


# errno -> what it means to the user, for OSErrors the machine causes
OS_ERRORS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EEXIST: "a file stands where a folder must go",
    errno.EISDIR: "this is a folder, not a file",
    errno.ENAMETOOLONG: "the path is longer than this system allows",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.ENOENT: "no such file or folder",
}
_ALLOC = re.compile(r"(?:can't allocate memory|not enough memory|out of memory)", re.I)
_TRIED = re.compile(r"tried to allocate (\d+) bytes")
_DIGITS = re.compile(
    r"^Exceeds the limit \(\d+ digits\) for integer string conversion.* (\d+) digits"
)


def _shown_path(path) -> str:
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    text = re.sub(r"\.([^/]+)\.\w+\.tmp$", r"\1", text)  # reti.io's temp file: name the target
    # Whole paths help; only a path past any sensible length (ENAMETOOLONG) is cut in the middle.
    return text if len(text) <= 300 else text[:148] + "..." + text[-148:]


def describe(exc: BaseException) -> str | None:
    """The one line for an error the user or the machine caused; None for a bug."""
    if isinstance(exc, RetiError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in OS_ERRORS:
        where = [_shown_path(p) for p in (exc.filename, exc.filename2) if p is not None]
        if not where and exc.errno == errno.ENOENT:
            return None  # a missing file nobody named: reti's own bug
        return f"{OS_ERRORS[exc.errno]}: {' -> '.join(where)}" if where else OS_ERRORS[exc.errno]
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and _ALLOC.search(str(exc))):
        tried = _TRIED.search(str(exc))
        size = f" (one allocation of {human_bytes(int(tried.group(1)))})" if tried else ""
        device = "cuda" if "cuda" in str(exc).lower() else None
        return (
            f"out of memory{size}; {machine_memory(device)[1]}: try a smaller model, batch or "
            "input size"
        )
    digits = _DIGITS.search(str(exc)) if isinstance(exc, ValueError) else None
    if digits:  # int("9" * 5000) of a flag a parser did not catch
        return f"a number of {digits.group(1)} digits; no size reti takes needs that many"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process (Python's recursion limit)"
    return None


def _usage(group: argparse.ArgumentParser) -> int:
    """A command group without its action: the usage on stdout, a one-line hint on stderr."""
    sub = _subcommands(group)
    group.print_help(sys.stdout)
    print(
        f"{group.prog}: error: missing {sub.metavar or 'COMMAND'} "
        f"({', '.join(sub.choices)}); see the usage above",
        file=sys.stderr,
    )
    return 2


def _quiet_stdout() -> None:
    """After a closed pipe: send what is left of stdout to /dev/null so exit stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    group = _needs_action(parser, argv)
    if group is not None:
        return _usage(group)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        return _usage(parser)
    try:
        config = getattr(args, "config", None)
        if isinstance(config, str):  # within limits before any command reads it (depth, digits)
            read_json(config, "--config file", error=ConfigError)
        result = func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        print("reti: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = describe(exc)
        if message is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        if len(message) > MAX_LINE:  # a 5000-digit flag echoed back helps nobody
            message = message[: MAX_LINE - 83] + " ... " + message[-78:]
        print(f"reti: error: {message}", file=sys.stderr)
        if isinstance(exc, ParseError):
            print(exc.caret(), file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
