"""GPT-2 / cl100k pre-tokenization on Python's `re`, checked against hand-worked splits and
against HF `tokenizers`' Oniguruma regex running OpenAI's original pattern (an independent engine
with real \\p{L} / \\p{N})."""

from __future__ import annotations

import itertools

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Regex
from tokenizers.pre_tokenizers import Split

from reti.errors import ConfigError, DataError
from reti.tokenize.pretokenize import (
    CL100K_PATTERN,
    GPT2_PATTERN,
    check_disallowed,
    compile_pattern,
    pretokenize,
    resolve_special,
    split_special,
)

# Characters from every class the pattern cares about, including the ones where Python's `\s`
# and `str.isalpha` differ from Unicode's properties (U+001C, ², ½, 〇, 一).
ALPHABET = list(
    "ab Z'sdmtlvreSLLVE0123456789 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2003\u2028\u3000"
    'éüßÆ ΩωЖж一世界〇²½①٣१ ́̈!?.,;:-_()[]"#$%&*+/<=>@\\^`{|}~'
) + ["😀", "👍", "\U0001f3fd", "𝔘", "𐍈", "\U0001f1ee", "\u200b", "\u180e"]

AWKWARD = [
    "",
    " ",
    "   ",
    "Hello world",
    "Hello  world   !!",
    "x \n\n  y\t\tz   ",
    "I'm sure you'll say they've done it 'tis 'T 'LL",
    "don't can't won't shouldn't've",
    "1234567 3.14 1,000,000 ½ ² ① ٣٤ 〇",
    "naïve café Ωmega Жизнь 世界你好",
    "emoji 😀👍🏽 and 🇮🇹 flags",
    "e\u0301 combining a\u0308 marks",
    "trailing spaces   ",
    "\n\n\n",
    "a\x1cb\x1fc\u00a0d\u2028e\u3000f",
    "!!!???...,,,;;;",
]


def hf_split(text: str, pattern: str) -> list[str]:
    return [piece for piece, _ in Split(Regex(pattern), "isolated").pre_tokenize_str(text)]


def test_hand_worked_gpt2_split():
    assert pretokenize("Hello world's  end!!") == ["Hello", " world", "'s", " ", " end", "!!"]
    assert pretokenize("I'll  12ab\n\n") == ["I", "'ll", " ", " 12", "ab", "\n\n"]
    assert pretokenize("") == []


def test_hand_worked_cl100k_split():
    # digits in groups of at most three; contractions case-insensitive; punctuation keeps newlines
    assert pretokenize("12345 I'LL", "cl100k") == ["123", "45", " I", "'LL"]
    assert pretokenize("hi!\n\nyo", "cl100k") == ["hi", "!\n\n", "yo"]


@pytest.mark.parametrize("pattern,original", [("gpt2", GPT2_PATTERN), ("cl100k", CL100K_PATTERN)])
@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_strings_match_oniguruma(pattern, original, text):
    assert pretokenize(text, pattern) == hf_split(text, original)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_strings_match_oniguruma_gpt2(text):
    chunks = pretokenize(text)
    assert "".join(chunks) == text
    assert chunks == hf_split(text, GPT2_PATTERN)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_strings_match_oniguruma_cl100k(text):
    assert pretokenize(text, "cl100k") == hf_split(text, CL100K_PATTERN)


@pytest.mark.parametrize("pattern", ["gpt2", "cl100k"])
def test_fast_bmp_regex_equals_full_regex_on_bmp_text(pattern):
    text = " ".join(AWKWARD[:-3]).replace("😀", "").replace("👍🏽", "").replace("🇮🇹", "")
    fast = compile_pattern(pattern, astral=False).findall(text)
    assert fast == compile_pattern(pattern).findall(text)


def test_unknown_pattern_is_a_config_error():
    with pytest.raises(ConfigError, match="pattern must be one of .*'gpt5'"):
        pretokenize("x", "gpt5")


def test_special_token_resolution_follows_tiktoken():
    specials = {"<|endoftext|>", "<|pad|>"}
    assert resolve_special(specials, (), "all") == (frozenset(), frozenset(specials))
    assert resolve_special(specials, "all", "all") == (frozenset(specials), frozenset())
    assert resolve_special(specials, {"<|pad|>"}, ()) == ({"<|pad|>"}, frozenset())
    with pytest.raises(ConfigError, match=r"unknown special token\(s\) \['<\|eos\|>'\]"):
        resolve_special(specials, {"<|eos|>"}, "all")
    with pytest.raises(ConfigError, match="allowed_special must be 'all' or a collection"):
        resolve_special(specials, "<|pad|>", "all")


def test_disallowed_special_names_token_and_offset():
    with pytest.raises(DataError, match=r"'<\|endoftext\|>' at character 3"):
        check_disallowed("ab <|endoftext|>", frozenset({"<|endoftext|>"}))
    check_disallowed("ab <|endoftext", frozenset({"<|endoftext|>"}))  # a prefix is plain text


def test_split_special_keeps_order_and_prefers_longest():
    allowed = frozenset({"<|a|>", "<|a|><|b|>"})
    assert list(split_special("x<|a|><|b|>y<|a|>", allowed)) == [
        ("x", False),
        ("<|a|><|b|>", True),
        ("y", False),
        ("<|a|>", True),
    ]
    assert list(split_special("", allowed)) == []


def test_reordered_gpt2_alternatives_equal_openai_order_on_every_short_string():
    # `re`'s GPT-2 pattern splits `` ?X+`` into ``X+| X+`` and reorders the alternatives; every
    # string of up to 5 characters over letters, digits, punctuation, the apostrophe, contraction
    # letters, space, tab and newline splits as OpenAI's pattern does in `regex` (66,430 strings).
    alphabet = "a1!'sl \n\t"
    original = regex.compile(GPT2_PATTERN)
    fast = compile_pattern("gpt2", astral=False)
    full = compile_pattern("gpt2")
    for size in range(6):
        for chars in itertools.product(alphabet, repeat=size):
            text = "".join(chars)
            expected = original.findall(text)
            assert fast.findall(text) == expected, text
            assert full.findall(text) == expected, text
