"""Pre-tokenization on tiktoken's Unicode (16.0): the letter / number / white-space classes on every
code point, the splits of both patterns on strings from all of Unicode, and GPT-2 ids, all checked
against tiktoken itself (its Rust regex, run through two probes built here, no network)."""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from tiktoken_ext.openai_public import r50k_pat_str

from reti.data import fetch
from reti.tokenize import load_gpt2
from reti.tokenize.pretokenize import (
    _AFTER_16,
    _has_after_16,
    compile_pattern,
    pretokenize,
    unicode_classes,
)

# tiktoken's cl100k_base pattern, exactly as tiktoken 0.7+ writes it (our CL100K_PATTERN differs
# only in `{1,3}` for `{1,3}+`, for Oniguruma).
TIKTOKEN_CL100K = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
ORIGINAL = {"gpt2": r50k_pat_str, "cl100k": TIKTOKEN_CL100K}
BYTES = {bytes([b]): b for b in range(256)}
EVERY = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)


@cache
def tiktoken_members(prop: str) -> frozenset[str]:
    """The code points tiktoken's regex puts in ``prop``: tiktoken encodes only the text its
    pattern matches, so a pattern of just the class, over 256 single-byte tokens, returns the
    bytes of exactly the members."""
    probe = tiktoken.Encoding("probe", pat_str=prop, mergeable_ranks=BYTES, special_tokens={})
    return frozenset(probe.decode_bytes(probe.encode_ordinary(EVERY)).decode("utf-8"))


def tiktoken_split(text: str, pat_str: str) -> list[str]:
    """tiktoken's own chunks of ``text``: with every byte substring of the text as a token
    (shorter ones ranked first), each chunk merges into exactly one token."""
    data = text.encode("utf-8")
    subs = {data[i:j] for i in range(len(data)) for j in range(i + 1, len(data) + 1)}
    ordered = sorted(subs - BYTES.keys(), key=lambda s: (len(s), s))
    ranks = {**BYTES, **{s: 256 + k for k, s in enumerate(ordered)}}
    enc = tiktoken.Encoding("split", pat_str=pat_str, mergeable_ranks=ranks, special_tokens={})
    return [enc.decode_single_token_bytes(i).decode("utf-8") for i in enc.encode_ordinary(text)]


def members(ranges: list[tuple[int, int]]) -> frozenset[str]:
    return frozenset(
        chr(cp) for a, b in ranges for cp in range(a, b + 1) if not 0xD800 <= cp <= 0xDFFF
    )


@pytest.mark.parametrize("name,prop", [("L", r"\p{L}"), ("N", r"\p{N}"), ("S", r"\s")])
def test_classes_equal_tiktoken_on_every_code_point(name, prop):
    ours = members(unicode_classes()[name])
    assert ours == tiktoken_members(prop)
    # ... and the compiled pattern holds exactly those classes
    pattern = compile_pattern("gpt2")
    if name == "L":
        assert frozenset(c for c in ours if pattern.fullmatch(c + c)) == ours


def test_newer_letters_than_unicode_16_are_other_symbols():
    newest = [chr(a) for a, _ in _AFTER_16]
    assert not set(newest) & tiktoken_members(r"\p{L}") and not set(newest) & members(
        unicode_classes()["L"]
    )
    assert (
        pretokenize("x \U00010940y")
        == ["x", " \U00010940", "y"]
        == tiktoken_split("x \U00010940y", r50k_pat_str)
    )


# Pieces that pick the awkward corners: newest scripts (Unicode 15-16 letters and numbers, and
# code points assigned after 16.0), combining marks, every kind of white space, contractions in
# odd cases, digits of many scripts, emoji with modifiers and joiners.
PIECES = [
    "\u1c89", "\U00011f04", "\U00010d4a", "\U00016100", "\U0001e5d0", "\U00011bc0", "\U000105c0",
    "\U00011380", "\U0001e4d0", "\U0001e030", "\U00010940", "\u0558", "\U000323b0", "\U0003d000",
    "\U00011de0", "\U00016ff4", "\u0301", "\u0308", "\u20dd", "\U0001d167", "\u0e31",
    " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680",
    "\u2003", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u200b", "\u180e", "\ufeff",
    "'s", "'S", "'t", "'ll", "'LL", "'Ve", "'re", "'d", "'m", "'\u017f", "'",
    "0", "7", "123", "4567", "\u0663", "\u0967", "\xbd", "\xb2", "\u2460", "\u3007",
    "\U0001d7d8", "\U000104a0", "\U0001f600", "\U0001f44d\U0001f3fd", "\u200d", "\U0001f1ee",
    "a\U00011f04", " \u1c89", "\U00010d4ab", "\u1c89's",
    "a", "Z", "\xe9", "\u4e16", "\u0416", "!", "...", "-", "_", "$", "\ud800", "\udfff",
]  # fmt: skip
STRINGS = st.lists(st.one_of(st.characters(), st.sampled_from(PIECES)), max_size=24).map("".join)


@pytest.mark.parametrize("name", ["gpt2", "cl100k"])
@pytest.mark.parametrize(
    "text",
    [" \u1c89's", "a\U00011f04b", "a \n  ", " \n  ", "x  \n\n y", "12345 I'LL", "'\u017ft\n",
     "\U0001f600\U0001f600 ok", "  \U00010940", "a\u0301\u0308b\u20dd 1\u0663"],
)  # fmt: skip
def test_hand_picked_splits_equal_tiktoken(name, text):
    assert pretokenize(text, name) == tiktoken_split(text, ORIGINAL[name])


@settings(max_examples=200, deadline=None)
@given(STRINGS.filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s)))
def test_splits_equal_tiktoken_on_all_of_unicode(text):
    for name in ("gpt2", "cl100k"):
        chunks = pretokenize(text, name)
        assert "".join(chunks) == text
        assert chunks == tiktoken_split(text, ORIGINAL[name]), name


# ------------------------------------------------------------------ GPT-2 ids (real ranks)


@pytest.fixture(scope="module")
def gpt2_pair(gpt2_oracle):
    return load_gpt2(fetch("gpt2") / "gpt2.tiktoken"), gpt2_oracle


@pytest.mark.network
@settings(max_examples=300, deadline=None)
@given(text=STRINGS)
def test_gpt2_ids_equal_tiktoken_on_all_of_unicode(gpt2_pair, text):
    reti, oracle = gpt2_pair
    ids = reti.encode(text, disallowed_special=())
    assert ids == oracle.encode(text, disallowed_special=())
    assert reti.decode(ids) == oracle.decode(ids)  # lone surrogates: both give U+FFFD
    if not any("\ud800" <= c <= "\udfff" for c in text):  # no lone surrogate
        assert reti.decode(ids) == text


def python_tables_miss() -> list[str]:
    """Code points tiktoken counts as letters or numbers that Python's own tables (``str.isalpha``
    / ``unicodedata`` categories, what reti's splitter used before) do not."""
    wide = tiktoken_members(r"\p{L}") | tiktoken_members(r"\p{N}")
    return sorted(c for c in wide if not c.isalpha() and unicodedata.category(c)[0] != "N")


@pytest.mark.network
def test_gpt2_ids_on_every_letter_python_does_not_know(gpt2_pair):
    reti, oracle = gpt2_pair
    missed = python_tables_miss()
    assert len(missed) > 9000  # Unicode 15.0 and 16.0 letters and numbers on Python 3.11
    for c in missed:
        for text in (f" {c}'s", f"a{c}b", f"{c}1 {c}{c}"):
            assert reti.encode(text) == oracle.encode(text), (hex(ord(c)), text)
    assert reti.encode(" \u1c89's") == oracle.encode(" \u1c89's")


@pytest.mark.parametrize("name", ["gpt2", "cl100k"])
def test_every_engine_gives_tiktokens_split(name):
    # BMP only (re, bitmaps); astral (the regex package's own tables); astral with a letter newer
    # than Unicode 16.0 (re, explicit 16.0 classes); a BMP letter newer than 16.0 (re, bitmaps).
    texts = {
        "a \u1c89's b  \n": False,
        "\U0001f600 a\U00011f04b 12345 \n  ": False,
        "\U0001f600 \U00010940x\u0558 y's \n ": True,
        "\u0558a \ua7ceb": True,
    }
    for text, newer in texts.items():
        assert _has_after_16(text) is newer
        assert pretokenize(text, name) == tiktoken_split(text, ORIGINAL[name]), text
