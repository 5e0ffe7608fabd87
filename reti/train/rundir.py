"""``run_folder``: a run writes into its folder so that a failed or interrupted command loses
nothing that was there before.

On entry (rank 0, outermost entry for the folder in this process):

1. leftovers of a killed process are cleaned: ``.*.tmp`` files and folders of interrupted
   atomic writes, a half-done ``atomic_dir`` swap, an interrupted overwrite (below);
2. a folder that already holds a run (``config.json`` or ``checkpoints/``) is refused with
   ``RunExistsError`` unless ``resume`` (continue it) or ``overwrite`` (replace it);
3. with ``overwrite`` the old run is renamed to the hidden sibling ``.<name>.replaced`` and the
   new run starts in an empty folder.

On exit: success deletes the set-aside run (renamed ``.<name>.discard`` first, so that a kill
during the deletion cannot be mistaken for a failure) and any ``FAILED`` note. Any exception,
``KeyboardInterrupt`` included, puts the old run back exactly as it was; a run that replaced
nothing leaves a ``FAILED`` note with the error beside what it wrote (its checkpoints can be
resumed), or no folder at all when it wrote nothing. A process killed during an overwrite
leaves ``.<name>.replaced``: the next entry for the folder puts the old run back.

Entering again for a folder already open in this process (a task opens it, then ``fit``)
does nothing: the outer entry decides. Writing errors of the file system (disk full, read-only,
no permission, name too long) become one-line ``RetiError``s.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from reti.errors import ConfigError, RetiError, RunExistsError, TrainingError
from reti.io import atomic_write_text, clean_temp_files, ensure_dir
from reti.runtime import world

FAILED = "FAILED"
RUN_MARKERS = ("config.json", "checkpoints")
_PATH_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ENOTDIR}
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
_open: dict[Path, int] = {}  # folders open in this process: how many entries deep
_replacing: dict[Path, bool] = {}
_lock = threading.Lock()


def holds_run(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder holding a run (its ``config.json`` or ``checkpoints/``)."""
    return any((Path(path) / marker).exists() for marker in RUN_MARKERS)


def _sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}")


def _remove(path: Path) -> None:
    """Delete ``path`` for good: renamed to a hidden ``.discard`` sibling first (one atomic
    step), then removed, so no half-deleted folder ever has a name that means something."""
    if not path.exists():
        return
    doomed = _sibling(path, "discard")
    shutil.rmtree(doomed, ignore_errors=True)
    os.replace(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def _recover(path: Path) -> None:
    """Undo what a killed process left: its half-deleted discard, its unfinished overwrite."""
    shutil.rmtree(_sibling(path, "discard"), ignore_errors=True)
    aside = _sibling(path, "replaced")
    if aside.is_dir():
        _remove(path)
        os.replace(aside, path)


def os_error_message(exc: OSError, path: str | os.PathLike) -> str | None:
    """One line for a file-system error while writing a run, or None for other errors."""
    where = exc.filename or path
    if exc.errno in _DISK_ERRORS:
        return f"cannot write {where}: {exc.strerror} (is the disk full?)"
    if exc.errno in _PATH_ERRORS:
        return f"cannot write {where}: {exc.strerror}; choose another output folder"
    return None


def _enter(path: Path, resume: bool, overwrite: bool) -> tuple[Path | None, bool]:
    """Check and prepare ``path``; return (where the old run was set aside, folder created)."""
    ensure_dir(path, create=False)  # a file where the folder must go: ConfigError
    existed, aside = path.is_dir(), None
    try:
        _recover(path)
        if existed:
            clean_temp_files(path)
        if holds_run(path) and not (resume or overwrite):
            raise RunExistsError(
                f"{path} already holds a run; pass --overwrite to replace it or --resume "
                "to continue it"
            )
        if overwrite and holds_run(path):
            aside = _sibling(path, "replaced")
            os.replace(path, aside)
            existed = False
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".{FAILED}.probe.tmp"  # writable? (permissions, read-only mounts)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if isinstance(exc, RetiError):
            raise
        if aside is not None:
            _fail(path, aside, False, exc)
        message = os_error_message(exc, path) or f"cannot use {path} as a run folder: {exc}"
        raise ConfigError(message) from None
    return aside, not existed


def _fail(path: Path, aside: Path | None, created: bool, exc: BaseException) -> str:
    """Put the old run back, or mark the failed one; return what to add to the error."""
    with contextlib.suppress(OSError):
        if aside is not None:
            _remove(path)
            os.replace(aside, path)
            return f"; the earlier run in {path} is kept as it was"
        if created and path.is_dir() and not any(path.iterdir()):
            path.rmdir()
        elif path.is_dir():
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            atomic_write_text(path / FAILED, reason + "\n")
    return ""


def _with_note(exc: BaseException, note: str) -> BaseException:
    """``exc`` as a RetiError of one line, ``note`` added (file-system errors converted)."""
    if isinstance(exc, OSError) and not isinstance(exc, RetiError):
        message = os_error_message(exc, exc.filename or "the run folder")
        if message is not None:
            return (TrainingError if exc.errno in _DISK_ERRORS else ConfigError)(message + note)
    if note and isinstance(exc, RetiError) and len(exc.args) == 1:
        with contextlib.suppress(TypeError):
            return type(exc)(f"{exc}{note}")
    return exc


def replacing(run_dir: str | os.PathLike) -> bool:
    """True while a run opened with ``overwrite`` replaces an earlier run in ``run_dir`` (so a
    failure will bring the earlier run back)."""
    with _lock:
        return _replacing.get(Path(run_dir).resolve(), False)


@contextlib.contextmanager
def run_folder(
    run_dir: str | os.PathLike, *, resume: bool = False, overwrite: bool = False
) -> Iterator[Path]:
    """Open ``run_dir`` for a run (see the module notes); yield its ``Path``.

    Raises:
        RunExistsError: the folder holds a run and neither ``resume`` nor ``overwrite``.
        ConfigError: both flags, a file in the way, a folder that cannot be written.
        TrainingError: the disk filled up during the run (the earlier run is kept).
    """
    if resume and overwrite:
        raise ConfigError("resume and overwrite exclude each other: continue the run or replace it")
    path = Path(run_dir)
    key = path.resolve()
    with _lock:
        nested = _open.get(key, 0) > 0 or world()[0] != 0  # other ranks leave it to rank 0
        _open[key] = _open.get(key, 0) + 1
    try:
        if nested:
            yield path
            return
        aside, created = _enter(path, resume, overwrite)
        with _lock:
            _replacing[key] = aside is not None
        try:
            yield path
        except BaseException as exc:
            converted = _with_note(exc, _fail(path, aside, created, exc))
            if converted is not exc:
                raise converted from None
            raise
        with contextlib.suppress(OSError):
            if aside is not None:
                _remove(aside)
            (path / FAILED).unlink(missing_ok=True)
    finally:
        with _lock:
            _open[key] -= 1
            if not _open[key]:
                del _open[key]
                _replacing.pop(key, None)
