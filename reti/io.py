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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from reti.errors import CheckpointError, ConfigError, DataError, DataNotFoundError

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


# ----------------------------------------------------------------------------- validated JSON
JSON_MAX_BYTES = 256 * 2**20  # a GPT-2 tokenizer.json is ~2 MB; meta.json a few KB
JSON_MAX_DEPTH = 100  # reti writes depth <= 6; json.loads itself recurses once per level
JSON_MAX_DIGITS = 100  # Python refuses int("1" * 4301); no reti field needs more than 20
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deeply ``[``/``{`` nest outside strings, counted without recursion (so a file of
    200 000 brackets is measured, not a ``RecursionError``)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_json(
    text: str | bytes,
    source: str,
    *,
    error: type[Exception] = DataError,
    max_depth: int = JSON_MAX_DEPTH,
    max_digits: int = JSON_MAX_DIGITS,
    invalid: str | None = None,
) -> Any:
    """JSON ``text`` with limits on nesting and integer digits; any problem is one ``error``
    naming ``source`` (a file name, or "--config" ...). NaN/Infinity are read (reti writes them).
    ``invalid`` replaces ``"<source>: not valid JSON"`` as the start of a syntax error's line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{source}: not UTF-8 text (byte {exc.start})") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise error(f"{source}: JSON nested {depth} levels deep; at most {max_depth} are read")

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > max_digits:
            raise error(
                f"{source}: an integer of {len(digits.lstrip('-'))} digits; "
                f"at most {max_digits} are read"
            )
        return int(digits)

    try:
        return json.loads(text, parse_int=integer)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise error(f"{invalid or source + ': not valid JSON'} ({exc.msg} at {where})") from None
    except RecursionError:  # the depth check makes this unreachable; kept as a last line
        raise error(f"{source}: JSON nested too deeply") from None


def read_json(
    path: str | os.PathLike,
    what: str = "JSON file",
    *,
    error: type[Exception] = DataError,
    max_bytes: int = JSON_MAX_BYTES,
    **limits: int,
) -> Any:
    """Read a JSON file through :func:`parse_json`'s limits and a size limit.

    Raises:
        DataNotFoundError: no such file. ``error``: too large, not UTF-8, too deep, an integer
        of too many digits, or not JSON; the message names ``what`` and the file.
    """
    path = Path(path)
    source = f"{what} {path}"
    if not path.is_file():
        raise DataNotFoundError(f"{source} does not exist")
    size = path.stat().st_size
    if size > max_bytes:
        raise error(f"{source}: {size} bytes; at most {max_bytes} are read")
    return parse_json(path.read_bytes(), source, error=error, **limits)


@dataclass(frozen=True)
class Field:
    """A schema entry: the allowed ``types``, optional bounds, whether it may be absent/null."""

    types: type | tuple[type, ...]
    min: float | None = None
    max: float | None = None
    required: bool = True
    nullable: bool = False


def _kind(types: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             dict: "an object", list: "a list"}  # fmt: skip
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_schema(value: Any, schema: Any, source: str, *, error: type[Exception] = DataError):
    """Check parsed JSON against a tiny schema; return ``value``.

    ``schema`` is a type or tuple of types (``int`` never admits ``true``; ``float`` admits
    integers), a :class:`Field`, a ``dict`` of field name -> schema (the value must be an object
    holding those fields; others are allowed), or ``[schema]`` (a list of such items).

    Raises:
        ``error``: ``"<source>: field 'a.b' must be an integer >= 1, got 0"`` for the first
        missing or mistyped field.
    """
    _check(value, schema, source, "", error)
    return value


def _check(value: Any, schema: Any, source: str, where: str, error: type[Exception]) -> None:
    name = f"field {where!r}" if where else "the document"
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise error(f"{source}: {name} must be an object, got {_shown(value)}")
        for key, sub in schema.items():
            path = f"{where}.{key}" if where else key
            field = sub if isinstance(sub, Field) else None
            if key not in value:
                if field is None or field.required:
                    raise error(f"{source}: field {path!r} is missing")
                continue
            _check(value[key], sub, source, path, error)
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise error(f"{source}: {name} must be a list, got {_shown(value)}")
        for i, item in enumerate(value):
            _check(item, schema[0], source, f"{where}[{i}]", error)
        return
    field = schema if isinstance(schema, Field) else Field(schema)
    if value is None and field.nullable:
        return
    types = field.types if isinstance(field.types, tuple) else (field.types,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    ok = ok or (float in types and isinstance(value, int) and not isinstance(value, bool))
    bounds = ""
    if field.min is not None:
        bounds += f" >= {field.min}"
    if field.max is not None:
        bounds += f"{' and' if bounds else ''} <= {field.max}"
    if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        ok = (field.min is None or value >= field.min) and (field.max is None or value <= field.max)
    if not ok:
        kind = _kind(field.types) + bounds + (" or null" if field.nullable else "")
        raise error(f"{source}: {name} must be {kind}, got {_shown(value)}")


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
        save_file(flat, str(tmp / TENSORS_FILE))
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
