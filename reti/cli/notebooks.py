"""`reti notebooks [DIR]`: copy the course notebooks into DIR and say how to open them.

reti notebooks                     # ./reti-notebooks/01_foundations_connectivity.ipynb ...
reti notebooks ~/corso --open      # and start JupyterLab there

A wheel carries the notebooks as package data (reti/notebooks/, put there by setup.py); a clone
or an editable install reads them from the repository's notebooks/ folder. A notebook already in
DIR is never overwritten: it may hold the student's answers.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

import reti
from reti.errors import ConfigError, DataNotFoundError
from reti.io import atomic_write_bytes, ensure_dir

PACKAGE = Path(reti.__file__).resolve().parent


def source_folder() -> Path:
    """Where this reti's notebooks are: in the installed package, else in the clone."""
    places = (PACKAGE / "notebooks", PACKAGE.parent / "notebooks")
    for folder in places:
        if any(folder.glob("*.ipynb")):
            return folder
    raise DataNotFoundError(
        f"this reti has no notebooks (looked in {places[0]} and {places[1]}); install reti from "
        "a wheel or work in a clone of its repository"
    )


def copy_notebooks(target: Path) -> tuple[list[Path], list[Path]]:
    """Copy every notebook into ``target``; returns (copied, kept: already there, untouched)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file; give a folder for the notebooks")
    ensure_dir(target)
    copied, kept = [], []
    for path in sorted(source_folder().glob("*.ipynb")):
        out = target / path.name
        if out.exists():
            kept.append(out)
        else:
            atomic_write_bytes(out, path.read_bytes())
            copied.append(out)
    return copied, kept


def run(args: argparse.Namespace) -> int:
    target = Path(args.dir).expanduser().resolve()
    has_lab = importlib.util.find_spec("jupyterlab") is not None
    if args.open and not has_lab:
        raise ConfigError("--open needs JupyterLab: pip install 'reti[notebooks]'")
    copied, kept = copy_notebooks(target)
    print(f"{len(copied)} notebook(s) copied to {target}")
    if kept:
        print(f"{len(kept)} kept as they were (your copies, maybe with your answers): "
              + ", ".join(p.name for p in kept))  # fmt: skip
    if args.open:
        return subprocess.call([sys.executable, "-m", "jupyterlab", str(target)])
    print("open them with:")
    print(f"  jupyter lab {target}")
    if not has_lab:
        print("JupyterLab is not installed here; first: pip install 'reti[notebooks]'")
    first = sorted(target.glob("*.ipynb"))[0]
    print(f"or run one top to bottom: jupyter execute {first}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``notebooks`` subcommand."""
    parser = sub.add_parser(
        "notebooks",
        help="copy the course notebooks into a folder and say how to open them",
        description="Copy the seven course notebooks (Italian and English lessons with "
        "exercises) into DIR, never overwriting one already there, and print how to open them.",
    )
    parser.add_argument(
        "dir",
        nargs="?",
        default="reti-notebooks",
        metavar="DIR",
        help="The folder to copy them into (created if missing). Default: reti-notebooks.",
    )
    parser.add_argument(
        "--open",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Then start JupyterLab in DIR (needs the notebooks extra). Default: off.",
    )
    parser.set_defaults(func=run)
