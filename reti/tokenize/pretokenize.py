"""Pre-tokenization: cut text into chunks that BPE never merges across (notes: Subword Encoders,
"GPT-2 utilizza BPE su byte e aggiunge regole per il merging process").

GPT-2's rule is a regular expression over Unicode classes (``\\p{L}`` letters, ``\\p{N}`` numbers,
``\\s`` white space). The classes come from the ``regex`` package (the engine of GPT-2's original
encoder; its tables follow current Unicode), cut back to Unicode 16.0, the version of the Rust
regex inside tiktoken: ``_AFTER_16`` lists the few newer letters and numbers ``regex`` knows.
``tests/test_tokenize_unicode.py`` checks every code point of all 17 planes against tiktoken.

The classes are written out as explicit ranges and run on Python's ``re``: a class that stays
inside the BMP becomes a bitmap, so text without astral characters (the usual case, checked in
O(1) for ASCII) takes a BMP-only pattern. Text with astral characters (emoji...) takes the
``regex`` package on OpenAI's pattern itself, unless it holds one of the newer letters (then
``re`` with all of Unicode, exact but slower). Measured on 1 MB of Shakespeare (best of 3, shared
machine): ``re`` BMP-only 0.08 s, ``re`` all of Unicode 0.35 s; ``regex`` with its own ``\\p{L}``
0.12 s, cut to 16.0 by a V1 set difference 0.38 s, with the explicit ranges 1.9 s.

Also here: cutting text around special tokens (``<|endoftext|>``), shared by every tokenizer.
"""

from __future__ import annotations

import functools
import re
import sys
from array import array
from collections.abc import Callable, Collection, Iterator

import regex

from reti.errors import ConfigError, DataError

# The patterns as OpenAI wrote them (exported into tiktoken / HF files). cl100k is tiktoken's
# cl100k_base today (``\s++$`` keeps trailing white space with a newline in one chunk) with
# ``\p{N}{1,3}+`` written ``\p{N}{1,3}``: the same match, and Oniguruma (HF tokenizers) reads
# ``{1,3}+`` as a repeated group.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
# ... and the same for `re`, the classes as placeholders. Possessive quantifiers are
# dropped (Python 3.10's ``re`` lacks them): in these patterns backtracking into them can never
# give a different match. ``$`` is ``\Z``: in Python ``$`` also matches before a final newline.
# GPT-2's alternatives are reordered and split so that each starts with one character or one
# class, which ``re`` tests before entering the alternative (`` ?X+`` is ``X+| X+``; the last
# ``\s+`` is one character: it is reached only by a lone white space before a non-space). Where
# two alternatives can match at one position (a contraction and punctuation; the two white
# space ones) they keep OpenAI's order; a space before a non-space never starts a white-space
# match. The split of the Shakespeare bench text: ~0.142 s against ~0.152 s (best of 5).
_TEMPLATES = {
    "gpt2": (
        r"""[{L}]+| [{L}]+|'(?:[sdmt]|ll|ve|re)|[^{S}{L}{N}]+| [^{S}{L}{N}]+| [{N}]+"""
        r"""|[{S}]+(?![^{S}])|[{S}]|[{N}]+"""
    ),
    "cl100k": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n{L}{N}]?[{L}]+|[{N}]{{1,3}}| ?[^{S}{L}{N}]+[\r\n]*"""
        r"""|[{S}]+\Z|[{S}]*[\r\n]|[{S}]+(?![^{S}])|[{S}]"""
    ),
}
PATTERNS = {"gpt2": GPT2_PATTERN, "cl100k": CL100K_PATTERN}
UNICODE_VERSION = "16.0"

# Letters and numbers in the regex package's tables (Unicode 17 and later) that Unicode 16.0 did
# not have; all were unassigned in Python 3.11's unicodedata (14.0) as well. Found by comparing
# every code point with tiktoken (the test repeats that comparison).
_AFTER_16 = [
    (0x558, 0x558), (0x58B, 0x58C), (0x88F, 0x88F), (0xC5C, 0xC5C), (0xCDC, 0xCDC),
    (0x208F, 0x208F), (0x209D, 0x209F), (0xA7CE, 0xA7CF), (0xA7D2, 0xA7D2), (0xA7D4, 0xA7D4),
    (0xA7DD, 0xA7DD), (0xA7E2, 0xA7E2), (0xA7F1, 0xA7F1), (0xAB6C, 0xAB6D), (0x107BB, 0x107BF),
    (0x10940, 0x10959), (0x10EC5, 0x10EC7), (0x10ED9, 0x10EEE), (0x11B0A, 0x11B0A),
    (0x11DB0, 0x11DDB), (0x11DE0, 0x11DE9), (0x11DF1, 0x11DF1), (0x1246F, 0x1246F),
    (0x12475, 0x1247F), (0x12550, 0x12686), (0x16EA0, 0x16EB8), (0x16EBB, 0x16ED3),
    (0x16FF2, 0x16FF6), (0x187F8, 0x187FF), (0x18CD6, 0x18CDA), (0x18D09, 0x18D20),
    (0x18D80, 0x18DF2), (0x18E00, 0x19191), (0x191A0, 0x191D2), (0x1B123, 0x1B128),
    (0x1B168, 0x1B168), (0x1D6A6, 0x1D6A6), (0x1DF1F, 0x1DF24), (0x1DF2B, 0x1DF81),
    (0x1DF90, 0x1DF96), (0x1DFCD, 0x1DFFF), (0x1E6C0, 0x1E6DE), (0x1E6E0, 0x1E6E2),
    (0x1E6E4, 0x1E6E5), (0x1E6E7, 0x1E6ED), (0x1E6F0, 0x1E6F4), (0x1E6FE, 0x1E6FF),
    (0x2B73A, 0x2B73F), (0x2B81E, 0x2B81E), (0x2CEA2, 0x2CEAD), (0x323B0, 0x33479),
    (0x3D000, 0x3FC3F),
]  # fmt: skip


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _class_body(ranges: list[tuple[int, int]]) -> str:
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


def _subtract(ranges: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points of sorted ``ranges`` minus those of sorted ``cut``, as ranges."""
    out = []
    for a, b in ranges:
        for c, d in cut:
            if d < a or c > b:
                continue
            if c > a:
                out.append((a, c - 1))
            a = max(a, d + 1)
            if a > b:
                break
        if a <= b:
            out.append((a, b))
    return out


@functools.cache
def unicode_classes() -> dict[str, list[tuple[int, int]]]:
    """Code-point ranges of the letters ("L"), numbers ("N") and white space ("S", Unicode's
    White_Space, what ``\\s`` means in tiktoken) as of Unicode 16.0, read from the regex
    package's tables with one scan of all code points (~0.1 s, once)."""
    # every code point in order (index == code point), built as UTF-32: 5x faster than chr()
    every = array("I", range(sys.maxunicode + 1)).tobytes().decode("utf-32-le", "surrogatepass")
    classes = {}
    for name, prop in (("L", r"\p{L}+"), ("N", r"\p{N}+"), ("S", r"\p{White_Space}+")):
        ranges = [(m.start(), m.end() - 1) for m in regex.finditer(prop, every)]
        classes[name] = _subtract(ranges, _AFTER_16)
    return classes


def _clip(ranges: list[tuple[int, int]], top: int) -> list[tuple[int, int]]:
    return [(a, min(b, top)) for a, b in ranges if a <= top]


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
    top = sys.maxunicode if astral else 0xFFFF
    body = {key: _class_body(_clip(ranges, top)) for key, ranges in unicode_classes().items()}
    return re.compile(_TEMPLATES[name].format(**body))


def _has_astral(text: str) -> bool:
    # ASCII is known in O(1); otherwise UTF-16 needs 4 bytes for an astral character and 2 for
    # any other (a memcpy-speed pass, ~50x faster than ``max(text)``).
    return not text.isascii() and len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_AFTER_16_BMP = "".join(chr(cp) for a, b in _AFTER_16 if b <= 0xFFFF for cp in range(a, b + 1))
_AFTER_16_ASTRAL = frozenset(
    chr(cp) for a, b in _AFTER_16 if a > 0xFFFF for cp in range(a, b + 1)
)  # fmt: skip


def _has_after_16(text: str) -> bool:
    """Whether ``text`` holds a letter or number newer than Unicode 16.0 (~15 ms for 5 MB)."""
    if any(char in text for char in _AFTER_16_BMP):
        return True
    return not _AFTER_16_ASTRAL.isdisjoint(_ASTRAL.findall(text))


@functools.cache
def _regex_pattern(name: str) -> regex.Pattern[str]:
    # The regex package on OpenAI's pattern, with its own (newer) tables: the same split as
    # tiktoken on any text without a letter or number newer than 16.0. ``$`` -> ``\Z`` as above.
    return regex.compile(PATTERNS[name].replace("$", r"\Z"))


def splitter(name: str) -> Callable[[str], list[str]]:
    """A function text -> chunks for a named pattern. Text without astral characters takes
    ``re`` with BMP bitmaps; text with them takes the ``regex`` package's ``\\p{L}``/``\\p{N}``
    (2x faster than ``re`` with astral ranges), unless it holds a letter newer than Unicode 16.0:
    then ``re`` with the explicit 16.0 classes. All three give tiktoken's split."""
    fast = compile_pattern(name, astral=False).findall  # raises ConfigError for an unknown name

    def split(text: str) -> list[str]:
        if not _has_astral(text):
            return fast(text)
        if _has_after_16(text):
            return compile_pattern(name).findall(text)
        return _regex_pattern(name).findall(text)

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
