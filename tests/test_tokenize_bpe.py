"""Byte-level BPE: training against a plain full-rescan trainer, encoding against tiktoken and HF
`tokenizers` loading our exports, round trips, special tokens, save/load, errors."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import tiktoken
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from reti.errors import ConfigError, DataError, DataNotFoundError
from reti.tokenize import BPETokenizer, load_tiktoken_ranks, load_tokenizer
from reti.tokenize.bpe_train import _merge_pair
from reti.tokenize.pretokenize import PATTERNS, pretokenize

CORPUS = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. "
    "resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n"
    "We know't, we know't. Let us kill him, and we'll have corn at our own price. 1600 1601!\n"
    "Caffè, naïve, 世界, 😀 — done.\n"
) * 3

AWKWARD = ["", " ", "\n\n\t  ", "😀👍🏽🇮🇹", "世界你好", "e\u0301a\u0308", "won't 'll 12345",
           "x" * 300, " " * 257, "<|endoftext" + "|", "\x00\x7f\xff"]  # fmt: skip


def naive_train(text: str, vocab_size: int) -> list[bytes]:
    """The notes' algorithm, literally: recount every pair of every chunk occurrence after each
    merge, merge the most frequent (ties: smallest ids); equal bytes reuse the existing token."""
    words = [list(chunk.encode()) for chunk in pretokenize(text)]
    vocab = [bytes([b]) for b in range(256)]
    while len(vocab) < vocab_size:
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        token = vocab[best[0]] + vocab[best[1]]
        if token in vocab:
            new = vocab.index(token)
        else:
            new = len(vocab)
            vocab.append(token)
        words = [_merge_pair(w, *best, new) for w in words]
    return vocab


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(CORPUS, 400)


def test_first_merge_is_the_most_frequent_pair():
    tok = BPETokenizer.train("aaab aab ab", 257, special_tokens=())
    # pairs inside chunks: (a,a) x3, (a,b) x3 ... ties go to the smaller ids: (97, 97) < (97, 98)
    assert tok.token_bytes(256) == b"aa"
    assert tok.vocab_size == 257


REPEATS = "aaaaaaa abababab aaab baaab abba " * 7 + "ééééé eéeé\n\n\n" * 3


@pytest.mark.parametrize("text,size", [(CORPUS, 300), (CORPUS, 420), (REPEATS, 290)])
def test_incremental_training_equals_full_rescan(text, size):
    tok = BPETokenizer.train(text, size, special_tokens=())
    reference = naive_train(text, size)
    assert [tok.token_bytes(i) for i in range(len(reference))] == reference


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="ab cé\n", max_size=60))
def test_incremental_training_equals_full_rescan_on_random_text(text):
    if not text:
        return
    tok = BPETokenizer.train(text, 280, special_tokens=())
    reference = naive_train(text, 280)
    assert [tok.token_bytes(i) for i in range(len(reference))] == reference


def test_training_compresses_and_stops_when_no_pair_repeats(tok):
    assert len(tok.encode(CORPUS)) < len(CORPUS.encode()) / 2.5
    small = BPETokenizer.train("abc", 1000)
    assert small.vocab_size == 257  # 256 bytes + <|endoftext|>: no pair occurs twice


def test_encoding_equals_tiktoken_with_exported_ranks(tok, tmp_path):
    tok.save_tiktoken(tmp_path / "r.tiktoken")
    enc = tiktoken.Encoding(
        "reti-test",
        pat_str=PATTERNS["gpt2"],
        mergeable_ranks=load_tiktoken_ranks(tmp_path / "r.tiktoken"),
        special_tokens=tok.special_tokens,
    )
    for text in [CORPUS, *AWKWARD, "Citizens resolved to speak 1601 times"]:
        assert tok.encode(text) == enc.encode(text)
    text = "a<|endoftext|>b"
    assert tok.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")
    assert tok.encode(text, disallowed_special=()) == enc.encode(text, disallowed_special=())


def test_hf_export_loads_in_tokenizers_with_the_same_ids(tok, tmp_path):
    tok.save_hf(tmp_path / "tokenizer.json")
    hf = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    for text in [CORPUS, "Citizens resolved, we'll speak 16000 times!", "  x  \n"]:
        assert hf.encode(text).ids == tok.encode(text)
        assert hf.decode(tok.encode(text)) == text
    assert hf.token_to_id("<|endoftext|>") == tok.special_tokens["<|endoftext|>"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_round_trip_any_string(tok, text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: see the dedicated test
        return
    assert tok.decode(tok.encode(text, disallowed_special=())) == text


@pytest.mark.parametrize("text", AWKWARD)
def test_round_trip_awkward(tok, text):
    ids = tok.encode(text, disallowed_special=())
    assert tok.decode(ids) == text
    assert tok.decode_bytes(ids) == text.encode()


def test_lone_surrogates_become_replacement_char_as_in_tiktoken(tok):
    assert tok.decode(tok.encode("a\ud800b")) == "a\ufffdb"
    assert tok.decode(tok.encode("\ud83d\ude00")) == "😀"  # a valid pair joins, like UTF-16


def test_invalid_utf8_in_decode_follows_python_errors(tok):
    first_byte_of_e_acute = [0xC3]  # single-byte tokens have ids 0..255 in a trained BPE
    assert tok.decode_bytes(first_byte_of_e_acute) == b"\xc3"
    assert tok.decode(first_byte_of_e_acute) == "\ufffd"
    assert tok.decode(first_byte_of_e_acute, errors="ignore") == ""
    assert tok.decode(first_byte_of_e_acute, errors="surrogateescape") == "\udcc3"
    with pytest.raises(UnicodeDecodeError):
        tok.decode(first_byte_of_e_acute, errors="strict")


def test_special_tokens(tok):
    eot = tok.special_tokens["<|endoftext|>"]
    assert eot == tok.vocab_size - 1
    assert tok.encode("a<|endoftext|>", allowed_special={"<|endoftext|>"})[-1] == eot
    with pytest.raises(DataError, match="special token '<\\|endoftext\\|>' at character 1"):
        tok.encode("a<|endoftext|>")
    plain = tok.encode("a<|endoftext|>", disallowed_special=())
    assert eot not in plain and tok.decode(plain) == "a<|endoftext|>"
    with pytest.raises(ConfigError, match="unknown special token"):
        tok.encode("a", allowed_special={"<|bos|>"})


def test_special_tokens_are_never_merged():
    text = "<|endoftext|>hello<|endoftext|>" * 50
    tok = BPETokenizer.train(text, 300, special_tokens=["<|endoftext|>", "<|user|>"])
    merged = [tok.token_bytes(i) for i in range(256, tok.vocab_size - 2)]
    assert all(b"<|" not in t and b"|>" not in t for t in merged)
    n = tok.vocab_size
    assert tok.special_tokens == {"<|endoftext|>": n - 2, "<|user|>": n - 1}


def test_save_load_round_trip(tok, tmp_path):
    path = tok.save(tmp_path / "tok.json")
    again = load_tokenizer(path)
    assert isinstance(again, BPETokenizer) and again.special_tokens == tok.special_tokens
    assert again.encode(CORPUS) == tok.encode(CORPUS)
    assert json.loads(path.read_text())["type"] == "bpe"


def test_cl100k_pattern_option(tmp_path):
    tok = BPETokenizer.train(CORPUS, 300, pattern="cl100k")
    assert tok.decode(tok.encode("1600123 x")) == "1600123 x"
    assert load_tokenizer(tok.save(tmp_path / "c.json")).pattern == "cl100k"
    hf = Tokenizer.from_file(str(tok.save_hf(tmp_path / "tokenizer.json")))
    text = CORPUS + " 1600123 I'LL We'Ve\n\n\n  x"
    assert hf.encode(text).ids == tok.encode(text, disallowed_special=())


@pytest.mark.parametrize("size", [255, 256, "4096", None])
def test_vocab_below_256_plus_specials_is_refused(size):
    with pytest.raises(ConfigError, match=r"vocab_size must be an int >= 256 \+ 1"):
        BPETokenizer.train(CORPUS, size)


def test_empty_text_and_bad_min_frequency_are_refused():
    with pytest.raises(DataError, match="empty text"):
        BPETokenizer.train("", 300)
    with pytest.raises(ConfigError, match="min_frequency must be >= 1, got 0"):
        BPETokenizer.train("abc", 300, min_frequency=0)


def test_bad_token_ids_in_decode(tok):
    with pytest.raises(ConfigError, match=r"token id must be an int in the vocabulary .* 99999"):
        tok.decode([1, 99999])


@pytest.mark.parametrize(
    "content,match",
    [
        ("not json", "bad.json is not a tokenizer file: not JSON"),
        ('{"type": "bpe2"}', "type must be one of"),
        ('{"type": "bpe", "tokens": []}', "bad.json: field 'byte_tokens' is missing"),
        (
            '{"type": "bpe", "byte_tokens": "identity", "tokens": ["!!"]}',
            "'tokens\\[0\\]' is not base64",
        ),
        ("[1, 2]", "bad.json: the document must be a JSON object, got \\[1, 2\\]"),
    ],
)
def test_malformed_files_are_data_errors(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        load_tokenizer(path)


def test_missing_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="tokenizer file not found"):
        load_tokenizer(tmp_path / "none.json")
    with pytest.raises(DataNotFoundError, match="ranks file not found"):
        load_tiktoken_ranks(tmp_path / "none.tiktoken")
    (tmp_path / "bad.tiktoken").write_text("QQ== 0\nnot-a-line\n")
    with pytest.raises(DataError, match="line 2"):
        load_tiktoken_ranks(tmp_path / "bad.tiktoken")


def test_small_chunk_cache_stays_bounded_and_correct():
    big = BPETokenizer.train(CORPUS, 400)
    small = BPETokenizer(
        {big.token_bytes(i): i for i in range(400 - 1)}, big.special_tokens, cache_size=8
    )
    assert small.encode(CORPUS) == big.encode(CORPUS)
    assert len(small._cache) == 8 < len(set(pretokenize(CORPUS)))
    assert small.encode("a b c d e f g h i j") == big.encode("a b c d e f g h i j")
    assert len(small._cache) == 8
    with pytest.raises(ConfigError, match="cache_size must be an int >= 0, got -1"):
        BPETokenizer(small._ranks, cache_size=-1)


def test_decode_accepts_tensors(tok):
    ids = tok.encode("resolved to die")
    assert tok.decode(torch.tensor(ids)) == "resolved to die"
