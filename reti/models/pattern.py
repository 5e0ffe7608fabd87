"""The CNN pattern language of the notes, ``[(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K,SOFTMAX``, with
concrete sizes: a tokenizer, a recursive-descent parser to spec objects, and a printer.

notes: Struttura tipica CNN. Grammar (EBNF; names are case-insensitive, spaces are ignored)::

    pattern  = sequence [ "," "SOFTMAX" ] ;
    sequence = item { "-" item } ;
    item     = ( layer | group ) [ "*" count ] ;
    group    = "(" sequence ")" | "[" sequence "]" ;
    layer    = NAME [ kernel ] [ "@" INT ] [ "(" arg { "," arg } ")" ] ;
    kernel   = INT [ "x" INT ] ;                  (CONV, POOL, AVGPOOL only)
    arg      = [ NAME "=" ] ( NUMBER | NAME ) ;
    count    = INT ;                             (1 ... 1000)

Layers: ``CONVk[xk]@C(stride=s,padding=p)`` (kernel 3, 'same' padding k//2, stride 1 by default;
channels default to 32 for the first CONV, then the previous CONV's channels, doubled after a
pooling), ``POOLk`` (max, 2x2 stride 2 by default), ``AVGPOOLk``, ``GAP`` (global average, then
flat), ``FC@n`` (the size is required), ``RELU``, ``TANH``, ``SIGMOID``, ``GELU``, ``BN``,
``DROPOUT(p[,inverted|standard])``. ``,SOFTMAX`` ends the pattern with a classifier head: a last
linear layer to the number of classes (logits; softmax is applied at predict time). The notes'
``POOL?`` marks an optional layer in a template; a concrete pattern writes it or leaves it out.

>>> to_pattern(parse("[(conv3@32-relu)*2-pool]*2 - (fc@128-relu)*1, softmax"))
'[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reti.errors import ConfigError, ParseError

# Layer name -> names of its (arg=value) options, in positional order.
LAYER_ARGS: dict[str, tuple[str, ...]] = {
    "CONV": ("stride", "padding"),
    "POOL": ("stride",),
    "AVGPOOL": ("stride",),
    "GAP": (),
    "FC": (),
    "RELU": (),
    "TANH": (),
    "SIGMOID": (),
    "GELU": (),
    "BN": (),
    "DROPOUT": ("p", "mode"),
}
KERNEL_LAYERS = ("CONV", "POOL", "AVGPOOL")
SIZED_LAYERS = ("CONV", "FC")
DROPOUT_MODES = ("inverted", "standard")
MAX_REPEAT = 1000
MAX_NESTING = 32  # groups inside groups; the parser recurses once per level
MAX_DIGITS = 18  # every size fits in 64 bits; the resource guards judge what fits the machine
_SYMBOLS = "-*[]()@,=?"
_DIGITS = "0123456789"  # not str.isdigit: "²" is a digit to Python, not to a pattern


@dataclass(frozen=True)
class Layer:
    """One layer: its kind, kernel (h, w), size (channels or features) and options."""

    kind: str
    kernel: tuple[int, int] | None = None
    size: int | None = None
    args: tuple[tuple[str, float | int | str], ...] = ()
    position: int = field(default=0, compare=False)

    def arg(self, name: str, default=None):
        return dict(self.args).get(name, default)


@dataclass(frozen=True)
class Repeat:
    """``body`` repeated ``count`` times; ``bracket`` is '(' or '[' for groups, '' for one layer."""

    body: tuple[Node, ...]
    count: int
    bracket: str = ""


Node = Layer | Repeat


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern: a sequence of nodes, and whether it ends with a classifier head."""

    body: tuple[Node, ...]
    softmax: bool = False

    def __str__(self) -> str:
        return to_pattern(self)


# --- tokenizer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "NAME", "INT", "FLOAT", a symbol, or "END"
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """Split a pattern into names, numbers and symbols; ParseError at the first stray character."""
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isascii() and ch.isalpha():
            j = i
            while j < len(text) and text[j].isascii() and (text[j].isalpha() or text[j] == "_"):
                j += 1
            tokens.append(Token("NAME", text[i:j], i))
            i = j
        elif ch in _DIGITS or (ch == "." and text[i + 1 : i + 2] in tuple(_DIGITS)):
            j = i
            while j < len(text) and (text[j] in _DIGITS or text[j] == "."):
                j += 1
            word = text[i:j]
            if word.count(".") > 1:
                raise ParseError(f"malformed number {word!r}", text, i)
            if len(word) > MAX_DIGITS:
                raise ParseError(f"number of {len(word)} digits; at most {MAX_DIGITS}", text, i)
            tokens.append(Token("FLOAT" if "." in word else "INT", word, i))
            i = j
        elif ch in _SYMBOLS:
            tokens.append(Token(ch, ch, i))
            i += 1
        else:
            raise ParseError(f"unexpected character {ch!r}", text, i)
    tokens.append(Token("END", "", len(text)))
    return tokens


# --- parser -------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list, one method per grammar rule."""

    def __init__(self, text: str):
        self.text, self.tokens, self.i, self.depth = text, tokenize(text), 0, 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, token: Token | None = None) -> ParseError:
        return ParseError(message, self.text, (token or self.tok).position)

    def take(self, kind: str) -> Token | None:
        if self.tok.kind == kind:
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def pattern(self) -> Pattern:
        if self.tok.kind == "END":
            raise self.error("empty pattern; expected a layer such as CONV3@32")
        body = self.sequence()
        softmax = False
        if self.take(","):
            name = self.take("NAME")
            if name is None or name.text.upper() != "SOFTMAX":
                raise self.error("expected SOFTMAX after ','", name)
            softmax = True
        if self.tok.kind != "END":
            raise self.error(f"unexpected {self.tok.text!r}; expected '-', ',SOFTMAX' or the end")
        return Pattern(body, softmax)

    def sequence(self) -> tuple[Node, ...]:
        items = [self.item()]
        while self.take("-"):
            items.append(self.item())
        return tuple(items)

    def item(self) -> Node:
        tok = self.tok
        if tok.kind in ("(", "["):
            node = self.group()
        elif tok.kind == "NAME":
            node = self.layer()
        else:
            what = "the end" if tok.kind == "END" else repr(tok.text)
            raise self.error(f"expected a layer or a group, got {what}")
        if self.tok.kind == "?":
            raise self.error("'?' marks an optional layer in the notes' template; write or drop it")
        if self.take("*"):
            count = self.take("INT")
            if count is None:
                raise self.error("expected a whole repeat count after '*'")
            n = int(count.text)
            if not 1 <= n <= MAX_REPEAT:
                raise self.error(f"repeat count must be in [1, {MAX_REPEAT}], got {n}", count)
            if isinstance(node, Repeat):  # a group: "(...)*n"
                return Repeat(node.body, n, node.bracket)
            return Repeat((node,), n, "")  # one layer: "CONV*n"
        return node

    def group(self) -> Repeat:
        open_tok = self.tokens[self.i]
        if self.depth >= MAX_NESTING:
            raise self.error(f"groups nested more than {MAX_NESTING} deep", open_tok)
        self.i += 1
        close = ")" if open_tok.kind == "(" else "]"
        self.depth += 1
        body = self.sequence()
        self.depth -= 1
        if not self.take(close):
            raise self.error(
                f"missing {close!r} (the {open_tok.kind!r} of column "
                f"{open_tok.position + 1} is not closed)"
            )
        return Repeat(body, 1, open_tok.kind)

    def layer(self) -> Layer:
        name_tok = self.take("NAME")
        kind = name_tok.text.upper()
        if kind not in LAYER_ARGS:
            known = ", ".join(LAYER_ARGS)
            raise self.error(f"unknown layer {name_tok.text!r}; known layers: {known}", name_tok)
        kernel = self.kernel(kind) if self.tok.kind == "INT" else None
        size = None
        if self.take("@"):
            num = self.take("INT")
            if num is None:
                raise self.error(f"expected a whole size after '@' in {kind}")
            if kind not in SIZED_LAYERS:
                raise self.error(f"{kind} takes no '@size'", num)
            size = int(num.text)
            if size < 1:
                raise self.error(f"{kind} size must be >= 1, got {size}", num)
        elif kind == "FC":
            raise self.error("FC needs '@size', e.g. FC@128")
        args = self.args(kind) if self.tok.kind == "(" else ()
        if kind == "DROPOUT" and not args:
            raise self.error("DROPOUT needs its rate, e.g. DROPOUT(0.5) or DROPOUT(0.5,standard)")
        return Layer(kind, kernel, size, args, name_tok.position)

    def kernel(self, kind: str) -> tuple[int, int]:
        first = self.take("INT")
        if kind not in KERNEL_LAYERS:
            raise self.error(f"{kind} takes no kernel size", first)
        kh = kw = int(first.text)
        if self.tok.kind == "NAME" and self.tok.text.lower() == "x":
            self.i += 1
            second = self.take("INT")
            if second is None:
                raise self.error("expected a whole kernel width after 'x', e.g. 3x3")
            kw = int(second.text)
        elif self.tok.kind == "NAME":
            raise self.error(f"unexpected {self.tok.text!r} after the kernel; expected e.g. 3x3")
        if kh < 1 or kw < 1:
            raise self.error(f"{kind} kernel must be >= 1, got {kh}x{kw}", first)
        return kh, kw

    def args(self, kind: str) -> tuple[tuple[str, float | int | str], ...]:
        open_tok = self.tokens[self.i]
        self.i += 1
        names, given = LAYER_ARGS[kind], {}
        while True:
            if not names:
                raise self.error(f"{kind} takes no arguments")
            start = self.tok
            key = None
            if start.kind == "NAME" and self.tokens[self.i + 1].kind == "=":
                key = start.text.lower()
                if key not in names:
                    raise self.error(f"{kind} has no option {key!r}; options: {', '.join(names)}")
                self.i += 2
            elif len(given) < len(names):
                key = names[len(given)]
            else:
                raise self.error(f"{kind} takes at most {len(names)} arguments")
            if key in given:
                raise self.error(f"{kind} option {key!r} given twice", start)
            given[key] = self.value(kind, key)
            if self.take(")"):
                break
            if not self.take(","):
                raise self.error(
                    f"expected ',' or ')' to close '(' opened at column {open_tok.position + 1}"
                )
        return tuple((name, given[name]) for name in names if name in given)

    def value(self, kind: str, key: str) -> float | int | str:
        tok = self.tok
        if key == "mode":
            if tok.kind != "NAME" or tok.text.lower() not in DROPOUT_MODES:
                raise self.error(f"DROPOUT mode must be one of {', '.join(DROPOUT_MODES)}")
            self.i += 1
            return tok.text.lower()
        if key == "p":
            if tok.kind not in ("INT", "FLOAT") or not 0.0 <= float(tok.text) < 1.0:
                raise self.error(f"DROPOUT p must be a number in [0, 1), got {tok.text!r}")
            self.i += 1
            return float(tok.text)
        lowest = 1 if key == "stride" else 0
        if tok.kind != "INT" or int(tok.text) < lowest:
            raise self.error(f"{kind} {key} must be a whole number >= {lowest}, got {tok.text!r}")
        self.i += 1
        return int(tok.text)


def parse(text: str) -> Pattern:
    """Parse a pattern string into a :class:`Pattern`.

    Raises:
        ParseError: with the column of the first problem (and ``.caret()`` to show it).
    """
    if not isinstance(text, str):
        raise TypeError(f"pattern must be a str, got {type(text).__name__}")
    return _Parser(text).pattern()


# --- printing and expansion ---------------------------------------------------------------------


def _layer_text(layer: Layer) -> str:
    out = layer.kind
    if layer.kernel is not None:
        kh, kw = layer.kernel
        out += str(kh) if kh == kw else f"{kh}x{kw}"
    if layer.size is not None:
        out += f"@{layer.size}"
    if layer.args:
        if layer.kind == "DROPOUT":
            values = [f"{v:g}" if k == "p" else str(v) for k, v in layer.args]
        else:
            values = [f"{k}={v}" for k, v in layer.args]
        out += "(" + ",".join(values) + ")"
    return out


def _node_text(node: Node) -> str:
    if isinstance(node, Layer):
        return _layer_text(node)
    inner = "-".join(_node_text(n) for n in node.body)
    if node.bracket:
        close = ")" if node.bracket == "(" else "]"
        return f"{node.bracket}{inner}{close}*{node.count}"
    return f"{inner}*{node.count}"


def to_pattern(pattern: Pattern | list[Layer] | tuple[Layer, ...], softmax: bool = False) -> str:
    """Print the canonical text of a pattern (or of a flat list of layers); parse(print(x)) == x."""
    if isinstance(pattern, Pattern):
        body, softmax = pattern.body, pattern.softmax
    else:
        body = tuple(pattern)
    return "-".join(_node_text(n) for n in body) + (",SOFTMAX" if softmax else "")


MAX_LAYERS = 10_000


def layer_count(nodes: tuple[Node, ...]) -> int:
    """How many layers the nodes unroll to, without unrolling them."""
    return sum(1 if isinstance(n, Layer) else n.count * layer_count(n.body) for n in nodes)


def expand(pattern: Pattern) -> list[Layer]:
    """Unroll every repeat into the flat list of layers, in order (notes: the ``*N`` counts).

    Raises:
        ConfigError: more than ``MAX_LAYERS`` layers (``[CONV*1000]*1000`` is a typo, not a net).
    """
    total = layer_count(pattern.body)
    if total > MAX_LAYERS:
        raise ConfigError(f"pattern unrolls to {total} layers; at most {MAX_LAYERS} are allowed")

    def walk(nodes: tuple[Node, ...]) -> list[Layer]:
        flat: list[Layer] = []
        for node in nodes:
            if isinstance(node, Layer):
                flat.append(node)
            else:
                flat.extend(walk(node.body) * node.count)
        return flat

    return walk(pattern.body)
