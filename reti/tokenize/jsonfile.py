"""Reading tokenizer JSON files safely: one ``DataError`` naming the file (and the field), never a
``RecursionError``, ``KeyError``, ``TypeError`` or an int of thousands of digits.

``json.loads`` recurses once per nesting level, so depth is measured first without recursion;
integers are parsed through a digit limit (Python itself refuses ``int`` of more than 4,300
digits with a bare ``ValueError``). Field checks return the value or raise with the field's path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reti import jsonio
from reti.errors import DataError, DataNotFoundError

MAX_BYTES = 512 * 2**20  # a tokenizer of 1M tokens is ~20 MB
MAX_DEPTH = 20  # reti writes depth 2; encoder.json is depth 1
MAX_DIGITS = 20  # ids and ranks fit in 10 digits


def json_depth(text: str) -> int:
    """How deeply ``[``/``{`` nest outside JSON strings, without recursion (``reti.jsonio``'s)."""
    return jsonio.json_depth(text)


def read_json(path: str | Path, what: str = "tokenizer file") -> Any:
    """The parsed JSON of ``path`` within the limits above, through ``reti.jsonio.parse_json``.

    Raises:
        DataNotFoundError: no such file. DataError: too large, not UTF-8, nested too deeply,
        an integer of too many digits, or not JSON; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{what} not found: {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataError(f"{what} {path}: {size} bytes; at most {MAX_BYTES} are read")
    return jsonio.parse_json(
        path.read_bytes(), f"{what} {path}", error=DataError, max_depth=MAX_DEPTH,
        max_digits=MAX_DIGITS, invalid=f"{path} is not a {what}: not JSON",
    )  # fmt: skip


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field(obj: Any, name: str, kind: type | tuple[type, ...], source: str, default: Any = ...):
    """``obj[name]`` checked to be of ``kind`` (``bool`` is never an ``int`` here).

    Raises:
        DataError: ``"<source>: field 'name' must be ..., got ..."`` or ``"... is missing"``.
    """
    if not isinstance(obj, dict):
        raise DataError(f"{source}: the document must be a JSON object, got {_shown(obj)}")
    if name not in obj:
        if default is not ...:
            return default
        raise DataError(f"{source}: field {name!r} is missing")
    return check(obj[name], kind, source, name)


def check(value: Any, kind: type | tuple[type, ...], source: str, where: str) -> Any:
    """``value`` if it is a ``kind`` (an ``int`` must also be >= 0 and < 2**31), else a
    ``DataError`` naming ``where``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if ok and isinstance(value, int) and not isinstance(value, bool):
        ok = 0 <= value < 2**31
    if not ok:
        names = {int: "an int in [0, 2**31)", str: "a string", list: "a list", dict: "an object",
                 type(None): "null"}  # fmt: skip
        wanted = " or ".join(names.get(k, k.__name__) for k in kinds)
        raise DataError(f"{source}: field {where!r} must be {wanted}, got {_shown(value)}")
    return value
