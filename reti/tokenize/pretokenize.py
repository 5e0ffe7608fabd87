"""Pre-tokenization: cut text into chunks that BPE never merges across (notes: Subword Encoders,
"GPT-2 utilizza BPE su byte e aggiunge regole per il merging process").

GPT-2's rule is a regular expression over Unicode classes (``\\p{L}`` letters, ``\\p{N}`` numbers,
``\\s`` white space). Python's ``re`` has no ``\\p{..}``, and its ``\\s`` is ``str.isspace`` (which
also takes U+001C..U+001F), so the classes are written out here as explicit ranges built from
``unicodedata`` on first use (the BMP in ~0.1 s; all of Unicode in ~0.5 s, only once a text has
an astral character). The result is the same split as OpenAI's ``regex`` pattern, up to
characters newer than this Python's Unicode database (``unicodedata.unidata_version``). Chosen
over adding the ``regex`` package: no new dependency, and ``re`` with flat classes is fast.

Also here: cutting text around special tokens (``<|endoftext|>``), shared by every tokenizer.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator

from reti.errors import ConfigError, DataError

# The patterns as OpenAI wrote them (exported into tiktoken / HF files) ...
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)
# ... and the same for Python's `re`, classes as placeholders. Possessive quantifiers are dropped:
# in these two patterns backtracking into them can never produce a different match.
_TEMPLATES = {
    "gpt2": r"""'(?:[sdmt]|ll|ve|re)| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+""",
    "cl100k": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n{L}{N}]?[{L}]+|[{N}]{{1,3}}| ?[^{S}{L}{N}]+[\r\n]*"""
        r"""|[{S}]*[\r\n]|[{S}]+(?![^{S}])|[{S}]+"""
    ),
}
PATTERNS = {"gpt2": GPT2_PATTERN, "cl100k": CL100K_PATTERN}

# Unicode's White_Space property (what `\s` means in the Rust regex tiktoken uses).
_WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
                (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
                (0x3000, 0x3000)]  # fmt: skip


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _class_body(ranges: list[tuple[int, int]]) -> str:
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


@functools.cache
def _category_ranges(top: int) -> dict[str, list[tuple[int, int]]]:
    """Code-point ranges up to ``top`` of the letters ("L") and numbers ("N"), in one pass over
    ``unicodedata.category`` (~30 ms for the BMP, ~0.5 s for all of Unicode)."""
    ranges: dict[str, list[tuple[int, int]]] = {"L": [], "N": []}
    start, open_class = 0, ""
    category = unicodedata.category
    for cp in range(top + 1):
        major = category(chr(cp))[0]
        major = major if major in "LN" else ""
        if major != open_class:
            if open_class:
                ranges[open_class].append((start, cp - 1))
            start, open_class = cp, major
    if open_class:
        ranges[open_class].append((start, top))
    return ranges


@functools.cache
def compile_pattern(name: str, astral: bool = True) -> re.Pattern[str]:
    """The compiled splitter for a named pattern: "gpt2" or "cl100k". With ``astral=False`` the
    classes stop at U+FFFF: exact only for text without astral characters (emoji...), and ~4x
    faster, because ``re`` turns a class into a bitmap only when it stays inside the BMP.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in _TEMPLATES:
        allowed = sorted(_TEMPLATES)
        raise ConfigError(f"pre-tokenizer pattern must be one of {allowed}, got {name!r}")
    ranges = _category_ranges(sys.maxunicode if astral else 0xFFFF)
    classes = {
        "L": _class_body(ranges["L"]),
        "N": _class_body(ranges["N"]),
        "S": _class_body(_WHITE_SPACE),
    }
    return re.compile(_TEMPLATES[name].format(**classes))


def splitter(name: str) -> Callable[[str], list[str]]:
    """A function text -> chunks for a named pattern, using the fast BMP-only regex whenever the
    text has no astral character (checked with one ``max(text)``, C speed); the full regex is
    compiled on first need (~1 s)."""
    fast = compile_pattern(name, astral=False).findall

    def split(text: str) -> list[str]:
        if not text or max(text) <= "\uffff":
            return fast(text)
        return compile_pattern(name).findall(text)

    return split


def pretokenize(text: str, pattern: str = "gpt2") -> list[str]:
    """Split ``text`` into the chunks BPE works inside; ``"".join(chunks) == text``.

    >>> pretokenize("Hello world's  end!!")
    ['Hello', ' world', "'s", ' ', ' end', '!!']
    """
    return splitter(pattern)(text)


# ---------------------------------------------------------------- special tokens


def resolve_special(
    specials: Collection[str], allowed: str | Collection[str], disallowed: str | Collection[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """tiktoken's rule: ``allowed`` specials become their ids; any ``disallowed`` special found in
    the text is an error; the rest is plain text. ``"all"`` means every special of the tokenizer,
    and ``disallowed="all"`` means every special not allowed.

    Raises:
        ConfigError: a name in ``allowed``/``disallowed`` that is not a special of this tokenizer.
    """
    known = frozenset(specials)
    allow = known if allowed == "all" else frozenset(_as_set(allowed, "allowed_special"))
    deny = known - allow if disallowed == "all" else frozenset(_as_set(disallowed, "disallowed"))
    for name, given in (("allowed_special", allow), ("disallowed_special", deny)):
        unknown = sorted(given - known)
        if unknown:
            raise ConfigError(
                f"{name} names unknown special token(s) {unknown}; this tokenizer has "
                f"{sorted(known) or 'none'}"
            )
    return allow, deny


def _as_set(value: str | Collection[str], name: str) -> Collection[str]:
    if isinstance(value, str):
        raise ConfigError(f"{name} must be 'all' or a collection of strings, got {value!r}")
    return value


@functools.lru_cache(maxsize=64)
def _alternation(tokens: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so "<|a|><|ab|>"-style prefixes pick the longer token.
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def check_disallowed(text: str, disallowed: frozenset[str]) -> None:
    """Raise if ``text`` contains a disallowed special token's string.

    Raises:
        DataError: naming the token and its character offset.
    """
    if not disallowed:
        return
    found = _alternation(disallowed).search(text)
    if found:
        raise DataError(
            f"text contains the special token {found.group()!r} at character {found.start()}; "
            f"pass allowed_special={{{found.group()!r}}} to encode it as a special token, or "
            "disallowed_special=() to encode it as plain text"
        )


def split_special(text: str, allowed: frozenset[str]) -> Iterator[tuple[str, bool]]:
    """Yield ``(piece, is_special)`` in order; special pieces are whole allowed tokens."""
    if not allowed:
        if text:
            yield text, False
        return
    start = 0
    for found in _alternation(allowed).finditer(text):
        if found.start() > start:
            yield text[start : found.start()], False
        yield found.group(), True
        start = found.end()
    if start < len(text):
        yield text[start:], False


def encode_with_special(
    text: str,
    special_tokens: dict[str, int],
    allowed_special: str | Collection[str],
    disallowed_special: str | Collection[str],
    encode_ordinary: Callable[[str], list[int]],
) -> list[int]:
    """Token ids of ``text``: allowed special tokens become their ids, the pieces between them
    go through ``encode_ordinary`` (tiktoken's rule, see ``resolve_special``).

    Raises:
        ConfigError: ``text`` is not a str, or an allowed token the tokenizer does not have.
        DataError: the text contains a disallowed special token.
    """
    if not isinstance(text, str):
        raise ConfigError(f"encode text must be a str, got {type(text).__name__}")
    allowed, disallowed = resolve_special(special_tokens, allowed_special, disallowed_special)
    check_disallowed(text, disallowed)
    ids: list[int] = []
    for piece, special in split_special(text, allowed):
        ids.extend([special_tokens[piece]] if special else encode_ordinary(piece))
    return ids
