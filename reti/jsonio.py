"""Validated JSON: every JSON file reti reads (checkpoint meta, configs, tokenizer files, lab
requests) goes through :func:`parse_json`'s limits on size, depth and digits, and
:func:`check_schema` names the file and the field that is wrong (``reti.io`` uses both for the
checkpoint format).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reti.errors import DataError, DataNotFoundError

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
