"""Atomic writes and reti's checkpoint format (safetensors + JSON, never pickle).

A checkpoint is a folder::

    ckpt/
      tensors.safetensors   every tensor (model weights, optimizer moments, RNG states)
      meta.json             {"format": "reti-checkpoint", "version": 1, "sha256": ..., ...}

It is written into a temporary sibling folder, fsynced, and renamed into place, so a crash
mid-write leaves the previous checkpoint untouched and never a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from reti.errors import CheckpointError, ConfigError, DataNotFoundError
from reti.jsonio import Field, check_schema, read_json

CHECKPOINT_FORMAT = "reti-checkpoint"
CHECKPOINT_VERSION = 1
TENSORS_FILE = "tensors.safetensors"
META_FILE = "meta.json"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_dir(path: str | os.PathLike, *, create: bool = True) -> Path:
    """The folder ``path``, made with its parents when ``create``; a file standing where a folder
    must go is a ``ConfigError`` naming it (checked before any work, so nothing is half-written).
    """
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise ConfigError(
                    f"--out must be a folder, got the file {str(part)!r} "
                    f"(on the way to the output folder {str(path)!r})"
                    if part != path
                    else f"--out must be a folder, got the file {str(path)!r}"
                )
            break
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _file_mode() -> int:
    mask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file + fsync + rename; readers see old or new."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"output file {str(path)!r} is an existing folder, not a file")
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; the file is meant to be shared like any
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """``atomic_write_bytes`` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """``atomic_write_bytes`` for an indented JSON document."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` in one rename, else vanishes."""
    path = Path(path)
    ensure_dir(path.parent)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output folder {str(path)!r} is an existing file, not a folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        os.chmod(tmp, _FILE_MODE | ((_FILE_MODE & 0o444) >> 2))  # mkdtemp makes 0700: add x by r
        yield tmp
        for child in tmp.iterdir():
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        if path.exists():
            # os.replace cannot swap a non-empty folder: move the old one aside first.
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The fields every reader of a checkpoint's meta.json relies on (the rest is each task's).
META_SCHEMA = {
    "format": str,
    "version": int,
    "sha256": str,
    "step": Field(int, min=0, required=False),
    "kind": Field(str, required=False),
    "model_config": Field(dict, required=False, nullable=True),
}


_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def _save_tensors(flat: dict[str, torch.Tensor], file: Path, target: Path) -> None:
    """safetensors' ``save_file``, with its I/O failures (a full disk: "No space left on device
    (os error 28)", a Rust error) raised as the ``OSError`` they are, naming the checkpoint."""
    try:
        save_file(flat, str(file))
    except OSError:
        raise
    except Exception as exc:  # safetensors' own SafetensorError
        code = _OS_ERROR.search(str(exc))
        if code is None:
            raise
        number = int(code.group(1))
        raise OSError(number, os.strerror(number), str(target)) from None


def save_checkpoint(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    """Write ``tensors`` (safetensors) and JSON-able ``meta`` as one checkpoint folder, atomically.

    Tensors are saved contiguous and detached; shared storage is copied (safetensors refuses
    aliasing, and tied weights are re-tied by the model on load).
    """
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    path = Path(path)
    with atomic_dir(path) as tmp:
        _save_tensors(flat, tmp / TENSORS_FILE, path)
        full = {
            **meta,  # first: a re-saved checkpoint's old format/version/hash never win
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "sha256": sha256_file(tmp / TENSORS_FILE),
        }
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(full, fh, indent=2, sort_keys=True)
    return path


def _refuse_foreign(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(
            f"{path} looks like a pickle / torch.save file; reti never loads pickles "
            "(they can run code). Convert it to a reti checkpoint folder."
        )
    raise CheckpointError(
        f"{path} is a file, not a reti checkpoint folder ({TENSORS_FILE} + {META_FILE})"
    )


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint folder back as ``(tensors, meta)``, checking format, version and hash.

    Raises:
        DataNotFoundError: ``path`` does not exist.
        CheckpointError: a pickle, a foreign or truncated file, or a hash mismatch.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"checkpoint {path} does not exist")
    if path.is_file():
        _refuse_foreign(path)
    meta_path, tensor_path = path / META_FILE, path / TENSORS_FILE
    if not meta_path.is_file() or not tensor_path.is_file():
        raise CheckpointError(
            f"{path} is not a reti checkpoint: needs {TENSORS_FILE} and {META_FILE}"
        )
    meta = read_json(meta_path, "checkpoint meta", error=CheckpointError, max_bytes=64 * 2**20)
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a reti checkpoint (format field missing or foreign)")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {meta.get('version')!r}; "
            f"this reti reads version {CHECKPOINT_VERSION}"
        )
    check_schema(meta, META_SCHEMA, str(meta_path), error=CheckpointError)
    if sha256_file(tensor_path) != meta.get("sha256"):
        raise CheckpointError(f"{tensor_path} is truncated or changed: its SHA-256 does not match")
    try:
        tensors = load_file(str(tensor_path), device=str(device))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"{tensor_path} cannot be read: {exc}") from None
    return tensors, meta


# ----------------------------------------------------------------------------- leftovers
def clean_temp_files(folder: str | os.PathLike, depth: int = 2) -> list[Path]:
    """Remove what an interrupted atomic write leaves in ``folder`` and its sub-folders down to
    ``depth`` levels: hidden ``.<name>.<random>.tmp`` files and folders (``atomic_write_bytes``,
    ``atomic_dir``), and ``.<name>.old`` folders of an ``atomic_dir`` swap: put back when the
    swap was cut between its two renames (``<name>`` missing), else deleted. Returns the paths
    removed or put back."""
    folder = Path(folder)
    done: list[Path] = []
    if depth < 1 or not folder.is_dir():
        return done
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            done.append(entry)
        elif name.startswith(".") and name.endswith(".old") and entry.is_dir() and len(name) > 5:
            original = entry.with_name(name[1:-4])
            if original.exists():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                os.replace(entry, original)
            done.append(entry)
        elif entry.is_dir() and not entry.is_symlink():
            done += clean_temp_files(entry, depth - 1)
    return done
