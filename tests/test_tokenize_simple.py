"""Char- and word-level tokenizers: tables, unknown token, min-frequency, round trips, specials."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reti.errors import ConfigError, DataError
from reti.tokenize import CharTokenizer, WordTokenizer, load_tokenizer

TEXT = "To be, or not to be: that is the question.\nTo sleep, perchance to dream.\n"


def test_char_table_is_sorted_with_unknown_first():
    tok = CharTokenizer.train("cabbage")
    assert tok.vocab_size == 1 + 5
    assert [tok.decode([i]) for i in range(6)] == ["<unk>", "a", "b", "c", "e", "g"]
    assert tok.encode("bag") == [2, 1, 5]


def test_char_round_trip_within_the_table_and_unknown_outside():
    tok = CharTokenizer.train(TEXT)
    assert tok.decode(tok.encode(TEXT)) == TEXT
    assert tok.decode(tok.encode("To bez")) == "To be<unk>"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_char_round_trip_any_string_including_surrogates(text):
    tok = CharTokenizer.train(text + "x")
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode_bytes(tok.encode(text)) == text.encode("utf-8", "surrogatepass")


def test_no_unknown_token_makes_unseen_text_an_error():
    tok = CharTokenizer.train("abc", unk_token=None)
    assert tok.encode("cab") == [2, 0, 1]
    with pytest.raises(DataError, match="'z' is not in the char vocabulary"):
        tok.encode("az")


def test_char_min_frequency_and_vocab_size():
    tok = CharTokenizer.train("aaabbc", min_frequency=2)
    assert tok.decode(tok.encode("abc")) == "ab<unk>"
    tok = CharTokenizer.train("aaabbc", vocab_size=2)  # unknown + the most frequent char
    assert tok.decode(tok.encode("abc")) == "a<unk><unk>"


def test_word_tokens_carry_their_spacing():
    tok = WordTokenizer.train(TEXT)
    assert tok.decode(tok.encode(TEXT)) == TEXT
    ids = tok.encode("To be")
    assert [tok.decode([i]) for i in ids] == ["To", " be"]
    assert tok.decode(tok.encode("to be")) == "<unk> be"  # "to" only occurs as " to"


def test_word_min_frequency_keeps_the_frequent_words_first():
    tok = WordTokenizer.train(TEXT, min_frequency=2)
    # " to", " be", "To", ",", "\n", "." ... appear twice or more; "question" only once
    assert tok.decode(tok.encode(" to be question")) == " to be<unk>"
    # six chunks occur twice; most frequent first, ties in string order
    assert [tok.decode([i]) for i in range(1, 7)] == ["\n", " be", " to", ",", ".", "To"]


def test_special_tokens_in_table_tokenizers():
    tok = CharTokenizer.train("ab<|endoftext|>ab", special_tokens=["<|endoftext|>"])
    eot = tok.special_tokens["<|endoftext|>"]
    assert eot == tok.vocab_size - 1
    assert "|" not in [tok.decode([i]) for i in range(eot)]  # the special's text is not trained
    assert tok.encode("a<|endoftext|>", allowed_special="all") == [1, eot]
    with pytest.raises(DataError, match="special token"):
        tok.encode("a<|endoftext|>")
    with pytest.raises(ConfigError, match="unknown special token"):
        tok.encode("a", allowed_special={"<|pad|>"})


@pytest.mark.parametrize("cls", [CharTokenizer, WordTokenizer])
def test_save_load_round_trip(tmp_path, cls):
    tok = cls.train(TEXT, special_tokens=["<|endoftext|>"])
    again = load_tokenizer(tok.save(tmp_path / "t.json"))
    assert type(again) is cls
    assert again.encode(TEXT) == tok.encode(TEXT)
    assert again.special_tokens == tok.special_tokens


@pytest.mark.parametrize("cls", [CharTokenizer, WordTokenizer])
def test_errors(cls):
    with pytest.raises(DataError, match="empty text"):
        cls.train("")
    with pytest.raises(ConfigError, match="vocab_size must be an int > 1"):
        cls.train("abc", vocab_size=1)
    with pytest.raises(ConfigError, match="min_frequency must be >= 1"):
        cls.train("abc", min_frequency=0)
    tok = cls.train("abc")
    with pytest.raises(ConfigError, match=r"token id must be an int in \[0, \d+\), got -1"):
        tok.decode([-1])
    with pytest.raises(ConfigError, match="encode text must be a str"):
        tok.encode(b"abc")


def test_malformed_table_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"type": "char", "tokens": [1, 2]}')
    with pytest.raises(DataError, match="t.json: field 'tokens\\[0\\]' must be a string, got 1"):
        load_tokenizer(path)
    path.write_text('{"type": "word", "tokens": ["a", "a"]}')
    with pytest.raises(DataError, match="duplicate"):
        load_tokenizer(path)
