"""Spec strings <-> ``Compose``: ``"hflip,crop(4),jitter(0.4,0.4,0.4,0.1),erase(p=0.25)"``.

Grammar (spaces are ignored between tokens)::

    spec   := [item ("," item)*]
    item   := NAME ["(" [arg ("," arg)*] ")"]
    arg    := [NAME "="] value
    value  := NUMBER | "(" value ("," value)* ")" | item | 'text' | "text"

A NAME is a transform (``oneof``/``apply`` take transforms as their positional arguments) or,
as a value, a word such as ``noise`` or ``true``. Positional arguments fill a transform's
parameters in order; keywords may come anywhere. ``str(compose)`` prints the canonical spec
(positional up to the last non-default parameter, then ``p=``), and parsing it gives the same
``Compose`` back. Every error is a ``ParseError`` with the column of the offending character.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from dataclasses import dataclass, field

from reti.augment.color import Brightness, ColorJitter, Contrast, Grayscale, Hue, Saturation
from reti.augment.compose import Compose, OneOf, Param, RandomApply, Transform
from reti.augment.crop import CenterCrop, Crop
from reti.augment.geometric import (
    Affine,
    HFlip,
    Rot90,
    Rotate,
    Scale,
    Shear,
    Translate,
    VFlip,
    Zoom,
)
from reti.augment.mask import Cutout, RandomErasing
from reti.augment.mix import CutMix, Mixup
from reti.augment.noise import Elastic, GaussianNoise, SaltPepper
from reti.errors import ConfigError, ParseError

# op name -> transform class (containers are handled by the parser itself)
OPS: dict[str, type[Transform]] = {
    "hflip": HFlip,
    "vflip": VFlip,
    "rot90": Rot90,
    "rotate": Rotate,
    "translate": Translate,
    "scale": Scale,
    "shear": Shear,
    "zoom": Zoom,
    "affine": Affine,
    "crop": Crop,
    "ccrop": CenterCrop,
    "brightness": Brightness,
    "contrast": Contrast,
    "saturation": Saturation,
    "hue": Hue,
    "jitter": ColorJitter,
    "gray": Grayscale,
    "noise": GaussianNoise,
    "saltpepper": SaltPepper,
    "elastic": Elastic,
    "cutout": Cutout,
    "erase": RandomErasing,
    "mixup": Mixup,
    "cutmix": CutMix,
}
CONTAINERS = {"oneof": OneOf, "apply": RandomApply}
MIXES = (Mixup, CutMix)


@dataclass
class Call:
    """``name(args)`` as written: each arg is (keyword or None, value, its column, arg column)."""

    name: str
    pos: int
    args: list[tuple[str | None, object, int, int]] = field(default_factory=list)


@dataclass
class Word:
    """A bare or quoted word used as a value (``noise``, ``'15'``)."""

    text: str
    quoted: bool


_TOKEN = re.compile(
    r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<sym>[(),=]))",
    re.ASCII,  # "²" and "٣" are digits to Python's \d, not to a spec
)
MAX_NESTING = 16  # transforms / tuples inside each other; the parser recurses per level
MAX_NUMBER = 30  # characters of one number ("1" * 5000 is a typo, and int() refuses it)


class _Parser:
    """Recursive descent over the spec text; ``self.i`` is the current column."""

    def __init__(self, text: str):
        self.text, self.i, self.depth = text, 0, 0

    def error(self, message: str, pos: int | None = None) -> ParseError:
        return ParseError(message, self.text, self.i if pos is None else pos)

    def peek(self) -> tuple[str, str, int] | None:
        """(kind, text, column) of the next token without consuming it."""
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1
        if self.i >= len(self.text):
            return None
        m = _TOKEN.match(self.text, self.i)
        if m is None:
            raise self.error(f"unexpected character {self.text[self.i]!r}")
        kind = m.lastgroup
        return kind, m.group(kind), m.start(kind)

    def take(self, expected: str | None = None, missing: str = "") -> tuple[str, str, int]:
        """Consume the next token (which must be ``expected`` when given)."""
        tok = self.peek()
        if tok is None:
            wanted = f"{expected!r}" if expected else (missing or "more")
            raise self.error(f"expected {wanted}, got the end of the spec")
        if expected is not None and tok[1] != expected:
            raise self.error(f"expected {expected!r}, got {tok[1]!r}", tok[2])
        self.i = tok[2] + len(tok[1])
        return tok

    def items(self) -> list[Call]:
        if self.peek() is None:
            return []
        calls = [self.item()]
        while self.peek() is not None:
            self.take(",")
            calls.append(self.item())
        return calls

    def item(self) -> Call:
        kind, text, pos = self.take()
        if kind != "name":
            raise self.error(f"expected a transform name, got {text!r}", pos)
        call = Call(text, pos)
        nxt = self.peek()
        if nxt is not None and nxt[1] == "(":
            self.take("(")
            if self.peek() is not None and self.peek()[1] == ")":
                self.take(")")
                return call
            while True:
                call.args.append(self.arg())
                sep = self.take(missing="')'")
                if sep[1] == ")":
                    break
                if sep[1] != ",":
                    raise self.error(f"expected ',' or ')', got {sep[1]!r}", sep[2])
        return call

    def arg(self) -> tuple[str | None, object, int, int]:
        tok = self.peek()
        if tok is None:
            raise self.error("expected an argument, got the end of the spec")
        if tok[0] == "name":
            save = self.i
            self.take()
            after = self.peek()
            if after is not None and after[1] == "=":
                self.take("=")
                value_pos = self.peek()[2] if self.peek() else self.i
                return tok[1], self.value(), value_pos, tok[2]
            self.i = save
        return None, self.value(), tok[2], tok[2]

    def value(self) -> object:
        kind, text, pos = self.peek() or (None, "", self.i)
        if kind in ("name", "sym") and self.depth >= MAX_NESTING:
            raise self.error(f"values nested more than {MAX_NESTING} deep", pos)
        self.depth += 1
        try:
            return self._value(kind, text, pos)
        finally:
            self.depth -= 1

    def _value(self, kind: str | None, text: str, pos: int) -> object:
        if kind == "num":
            if len(text) > MAX_NUMBER:
                raise self.error(f"number of {len(text)} characters; at most {MAX_NUMBER}", pos)
            number = float(text) if any(c in text for c in ".eE") else int(text)
            if not math.isfinite(number):
                raise self.error(f"number {text} is out of range", pos)
            self.take()
            return number
        if kind == "str":
            self.take()
            return Word(text[1:-1], quoted=True)
        if kind == "name":
            nxt = _TOKEN.match(self.text, pos + len(text))
            if nxt is not None and nxt.group("sym") == "(":
                return self.item()
            self.take()
            return Word(text, quoted=False)
        if text == "(":
            self.take("(")
            values = [self.value()]
            while (sep := self.take(missing="')'"))[1] == ",":
                values.append(self.value())
            if sep[1] != ")":
                raise self.error(f"expected ',' or ')' in a tuple, got {sep[1]!r}", sep[2])
            return tuple(values)
        raise self.error(f"expected a value, got {text or 'the end of the spec'!r}", pos)


def _convert(param: Param, value: object, op: str, pos: int, text: str) -> object:
    """Check a parsed value against the parameter's kind; return the Python value."""

    def bad(allowed: str) -> ParseError:
        shown = f"'{value.text}'" if isinstance(value, Word) else repr(value)
        if isinstance(value, Call):
            shown = f"the transform {value.name!r}"
        return ParseError(f"{op} {param.name} must be {allowed}, got {shown}", text, pos)

    def number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    kind = param.kind
    if kind in ("prob", "num"):
        if not number(value):
            raise bad("a number")
        if kind == "prob" and not 0 <= value <= 1:
            raise bad("a probability in [0, 1]")
        return float(value)
    if kind == "int":
        if not isinstance(value, int):
            raise bad("an integer")
        return value
    if kind == "size":
        if isinstance(value, int) or (
            isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)
        ):
            return value
        raise bad("an integer or a pair of integers")
    is_pair = isinstance(value, tuple) and len(value) == 2 and all(number(v) for v in value)
    if kind == "pair":
        if not is_pair:
            raise bad("a pair (lo,hi) of numbers")
        return tuple(float(v) for v in value)
    if kind == "range":
        if number(value):
            return float(value)
        if is_pair:
            return tuple(float(v) for v in value)
        raise bad("a number or a pair (lo,hi)")
    if kind == "fill":
        if number(value):
            return float(value)
        if isinstance(value, Word) and value.text == "noise":
            return "noise"
        raise bad("a number or noise")
    raise ConfigError(f"unknown parameter kind {kind!r}")  # a bug in a params table


def _build(call: Call, text: str, num_classes: int | None) -> Transform:
    if call.name in CONTAINERS:
        return _build_container(call, text, num_classes)
    cls = OPS.get(call.name)
    if cls is None:
        close = difflib.get_close_matches(call.name, [*OPS, *CONTAINERS], n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(OPS)}"
        raise ParseError(f"unknown transform {call.name!r}{hint}", text, call.pos)
    by_name = {prm.name: prm for prm in cls.params}
    kwargs: dict[str, object] = {}
    where: dict[str, int] = {}
    positional = [a for a in call.args if a[0] is None]
    if len(positional) > len(cls.params):
        pos = positional[len(cls.params)][2]
        names = ", ".join(prm.name for prm in cls.params)
        raise ParseError(
            f"{call.name} takes at most {len(cls.params)} arguments ({names}), "
            f"got {len(positional)}",
            text,
            pos,
        )
    named = [(prm.name, v, p, p) for prm, (_, v, p, _) in zip(cls.params, positional)]
    named += [arg for arg in call.args if arg[0] is not None]
    for key, value, pos, key_pos in named:
        if key not in by_name:
            allowed = ", ".join(by_name) or "none"
            raise ParseError(
                f"{call.name} has no argument {key!r} (allowed: {allowed})", text, key_pos
            )
        if key in kwargs:
            raise ParseError(f"{call.name} got {key!r} twice", text, key_pos)
        kwargs[key] = _convert(by_name[key], value, call.name, pos, text)
        where[key] = pos
    if cls in MIXES:
        kwargs["num_classes"] = num_classes
    needed = [
        name
        for name, prm in inspect.signature(cls).parameters.items()
        if prm.default is inspect.Parameter.empty and name not in kwargs
    ]
    if needed:
        raise ParseError(f"{call.name} needs its {needed[0]}, e.g. {call.name}(24)", text, call.pos)
    try:
        return cls(**kwargs)
    except ConfigError as exc:  # a range the constructor checks: point at that argument
        pos = next((p for k, p in where.items() if re.search(rf"\b{k}\b", str(exc))), call.pos)
        raise ParseError(str(exc), text, pos) from None


def _build_container(call: Call, text: str, num_classes: int | None) -> Transform:
    inner: list[Transform] = []
    p: float | None = None
    for key, value, pos, key_pos in call.args:
        if key is None:
            if not isinstance(value, (Call, Word)) or (isinstance(value, Word) and value.quoted):
                raise ParseError(f"{call.name} takes transforms, got {value!r}", text, pos)
            sub = value if isinstance(value, Call) else Call(value.text, pos)
            inner.append(_build(sub, text, num_classes))
        elif key == "p":
            p = _convert(Param("p", "prob"), value, call.name, pos, text)
        else:
            raise ParseError(f"{call.name} has no argument {key!r} (allowed: p)", text, key_pos)
    if not inner:
        raise ParseError(f"{call.name} needs at least one transform", text, call.pos)
    cls = CONTAINERS[call.name]
    return cls(inner) if p is None else cls(inner, p=p)


def parse_spec(spec: str, num_classes: int | None = None) -> Compose:
    """Parse a spec string into a ``Compose``; ``num_classes`` is handed to mixup/cutmix.

    Raises:
        ParseError: unknown names (with the closest known one), wrong argument counts, bad
            types or out-of-range values; the message gives the column.
    """
    if not isinstance(spec, str):
        raise ConfigError(f"spec must be a string, got {type(spec).__name__}")
    calls = _Parser(spec).items()
    return Compose([_build(call, spec, num_classes) for call in calls])
