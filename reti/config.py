"""One config dialect: a dataclass field carries its help and its rule; one checker reads them.

Every config of reti (``TrainConfig``, the pipelines' ``VisionConfig`` / ``SeriesConfig`` /
``TextConfig``, the models' ``*Config``) declares each field with ``option``::

    lr: float = option(1e-3, "Peak learning rate.", POSITIVE)

and calls ``check(self)`` in ``__post_init__``; a rule that spans fields (Nesterov needs
momentum) stays a short explicit line after it. The CLI's ``--lr`` help and the lab's refusal
of a bad value come from the same field, so the three places never disagree:
``lr must be a finite number > 0, got -1.0``.

``parse_spec`` is the one reader of data specs: a built-in name, or ``kind:PATH``.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any

from reti.errors import ConfigError, RetiError


@dataclass(frozen=True)
class Rule:
    """What a field may hold: ``ok(value)`` and the words for it (``must be {allowed}``)."""

    ok: Callable[[Any], bool]
    allowed: str

    def says(self, allowed: str) -> Rule:
        """The same check in other words (where a message's wording is part of the API)."""
        return Rule(self.ok, allowed)

    def or_none(self) -> Rule:
        """The same rule, or None."""
        ok = self.ok
        return Rule(lambda v: v is None or ok(v), f"None or {self.allowed}")


def is_int(value: Any) -> bool:
    """An int that is not a bool (``True`` is an int to Python, never a count to reti)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or an infinity)."""
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


def integer(low: int) -> Rule:
    """An integer >= ``low``."""
    return Rule(lambda v: is_int(v) and v >= low, f"an integer >= {low}")


def interval(low: float, high: float, closed: str = "[)") -> Rule:
    """A number between ``low`` and ``high``; ``closed`` says which ends belong: "[)", "(]"..."""
    left, right = closed[0] == "[", closed[1] == "]"

    def ok(v: Any) -> bool:
        if not is_number(v):
            return False
        return (v >= low if left else v > low) and (v <= high if right else v < high)

    return Rule(ok, f"in {closed[0]}{low}, {high}{closed[1]}")


def one_of(choices: Sequence[Any], allowed: str | None = None) -> Rule:
    """One of ``choices`` (words: ``one of a, b, c``)."""
    choices = tuple(choices)
    return Rule(lambda v: v in choices, allowed or f"one of {', '.join(map(str, choices))}")


COUNT = integer(1)
OPTIONAL_COUNT = COUNT.or_none()
NON_NEGATIVE_INT = integer(0)
POSITIVE = Rule(lambda v: is_number(v) and v > 0, "a finite number > 0")
NON_NEGATIVE = Rule(lambda v: is_number(v) and v >= 0, "a number >= 0")
FRACTION = interval(0, 1, "[)")  # a probability that must leave something: dropout, smoothing
BOOL = Rule(lambda v: isinstance(v, bool), "True or False")
OPTIONAL_BOOL = Rule(lambda v: v is None or isinstance(v, bool), "None, True or False")
TEXT = Rule(lambda v: isinstance(v, str), "a string")


def option(
    default: Any = MISSING,
    help: str = "",
    rule: Rule | None = None,
    *,
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field with its one sentence of help (the CLI's ``--flag`` help) and its
    ``rule`` (checked by ``check``)."""
    metadata = {"help": help, "rule": rule}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _refuse(rule: Rule | None, name: str, value: Any) -> None:
    if rule is None:
        return
    try:
        good = bool(rule.ok(value))
    except (TypeError, ValueError):  # a value of a type the rule cannot even compare
        good = False
    if not good:
        raise ConfigError(f"{name} must be {rule.allowed}, got {value!r}")


def check(config: Any, prefix: str = "") -> None:
    """Check every field of a config dataclass against its rule, in field order.

    Raises:
        ConfigError: ``{prefix}{name} must be {allowed}, got {value!r}`` for the first bad field.
    """
    for f in fields(config):
        _refuse(f.metadata.get("rule"), prefix + f.name, getattr(config, f.name))


def check_value(config: type | object, name: str, value: Any, label: str | None = None) -> Any:
    """``value`` if field ``name`` of a config dataclass may hold it (its rule, as ``check``
    words it); for a setting checked before its config is made (the lab's job settings).

    Raises:
        ConfigError: ``{label or name} must be {allowed}, got {value!r}``.
    """
    _refuse(field_rule(config, name), label or name, value)
    return value


NONE_WORDS = ("none", "null")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def field_types(config: type | object) -> dict[str, tuple[Any, bool]]:
    """Field name -> (base type, may be None), from the dataclass's resolved annotations
    (``int | None`` -> ``(int, True)``, ``dict[str, Any]`` -> ``(dict, False)``)."""
    cls = config if isinstance(config, type) else type(config)
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        optional = is_union and type(None) in args
        base = next((a for a in args if a is not type(None)), hint) if is_union else hint
        out[f.name] = (typing.get_origin(base) or base, optional)
    return out


def read_value(config: type | object, name: str, value: Any, label: str | None = None) -> Any:
    """A value from outside (a flag's text, a form's text, a JSON number) as field ``name``'s
    type: text is parsed (``none`` / ``null`` is None where the field may be None), an int
    where a float belongs becomes that float; anything else is returned as it is, for the
    field's rule to judge.

    Raises:
        ConfigError: text that is not of the field's type (``{label} must be int, got 'x'``).
    """
    base, optional = field_types(config)[name]
    if isinstance(value, str) and (base is not str or optional):
        if optional and value.strip().lower() in NONE_WORDS:
            return None
        if base is str:
            return value
        if base is bool:  # bool("false") is True: words, not Python's truth
            word = value.strip().lower()
            if word in TRUE_WORDS + FALSE_WORDS:
                return word in TRUE_WORDS
            raise ConfigError(f"{label or name} must be true or false, got {value!r}")
        try:
            return base(value)
        except (TypeError, ValueError):
            kind = base.__name__ + (" or none" if optional else "")
            raise ConfigError(f"{label or name} must be {kind}, got {value!r}") from None
    if base is float and is_int(value):
        return float(value)
    return value


def field_help(config: type | object) -> dict[str, str]:
    """``{field name: its one-sentence help}`` of a config dataclass (class or instance), in
    field order; a field without help maps to ``""``.

    Raises:
        TypeError: not a dataclass.
    """
    if not is_dataclass(config):
        raise TypeError(f"field_help needs a dataclass, got {config!r}")
    return {f.name: f.metadata.get("help", "") for f in fields(config)}


def field_rule(config: type | object, name: str) -> Rule | None:
    """The rule of field ``name`` of a config dataclass (None: it has none)."""
    return next((f.metadata.get("rule") for f in fields(config) if f.name == name), None)


def parse_spec(
    spec: Any,
    what: str,
    names: Sequence[str] = (),
    kinds: Sequence[str] = (),
    *,
    default: str | None = None,
    error: type[RetiError] = ConfigError,
) -> tuple[str, str | None]:
    """A data spec -> ``(name, None)`` for a built-in name, ``(kind, PATH)`` for ``kind:PATH``.

    Names and kinds are matched without regard to case or surrounding spaces (the name comes
    back as written in ``names``); the PATH is kept as given (it may hold colons itself). With
    ``default``, any other non-empty spec is read as ``default:spec`` (a plain path).

    >>> parse_spec("csv:/tmp/a:b.csv", "series", ["co2"], ["csv"])
    ('csv', '/tmp/a:b.csv')

    Raises:
        ``error``: ``unknown {what} {spec!r}; use one of: {names}, {kind}:PATH ...``
    """
    text = spec if isinstance(spec, str) else ""
    kind, sep, path = text.partition(":")
    kind = kind.strip().lower()
    if not sep:
        name = next((n for n in names if n.lower() == kind), None)
        if name is not None:
            return name, None
    if sep and path and kind in kinds:
        return kind, path
    if default is not None and text:
        return default, text
    choices = [*names, *(f"{k}:PATH" for k in kinds)]
    raise error(f"unknown {what} {spec!r}; use one of: {', '.join(choices)}")


__all__ = [
    "BOOL",
    "COUNT",
    "FRACTION",
    "NON_NEGATIVE",
    "NON_NEGATIVE_INT",
    "OPTIONAL_BOOL",
    "OPTIONAL_COUNT",
    "POSITIVE",
    "TEXT",
    "Rule",
    "check",
    "check_value",
    "field_help",
    "field_rule",
    "field_types",
    "integer",
    "interval",
    "is_int",
    "is_number",
    "one_of",
    "option",
    "parse_spec",
    "read_value",
]
