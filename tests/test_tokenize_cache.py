"""The BPE chunk cache (chunk -> ids) is bounded and never drops a chunk the current call needs:
tiny caches with overlapping texts, and a long run past the default size, checked against a
tokenizer that never evicts (a cache larger than every run here)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from reti.tokenize import BPETokenizer
from reti.tokenize.pretokenize import pretokenize

bpe = importlib.import_module("reti.tokenize.bpe")

BYTES = {bytes([b]): b for b in range(256)}
# A few merges, so that cached ids differ from the plain bytes: "th", "the", " w", " wo"...
MERGED = {**BYTES, b"th": 256, b"the": 257, b" w": 258, b" wo": 259, b"rd": 260, b" c": 261}


def test_overlapping_texts_through_a_two_entry_cache():
    # "a b" caches "a" and " b"; "a c" finds "a" cached and " c" missing: inserting " c" must
    # not drop "a", which this call already counted on (it raised KeyError: 'a').
    tok = BPETokenizer(BYTES, cache_size=2)
    assert tok.encode("a b") == [97, 32, 98]
    assert tok.encode("a c") == [97, 32, 99]
    assert tok.encode("a b c a") == [97, 32, 98, 32, 99, 32, 97]
    assert len(tok._cache) <= 2


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_tiny_caches_give_the_ids_of_an_unbounded_one(size):
    texts = ["the word", "the cord", "a word the", "the the the", "word rd th", "the word"] * 3
    tiny = BPETokenizer(MERGED, cache_size=size)
    unbounded = BPETokenizer(MERGED, cache_size=10**9)
    for text in texts:
        assert tiny.encode(text) == unbounded.encode(text)
        assert len(tiny._cache) <= size
    assert unbounded.encode("the word") == [257, 259, 260]  # hand-merged: the| wo|rd


def test_a_call_with_more_distinct_chunks_than_the_cache_holds():
    tok = BPETokenizer(MERGED, cache_size=4)
    text = " ".join(f"w{i}" for i in range(50)) + " the word"
    assert tok.encode(text) == BPETokenizer(MERGED, cache_size=10**9).encode(text)
    assert len(tok._cache) <= 4


def test_long_run_past_the_default_cache():
    # "the w17x" is the chunks "the", " w", "17", "x": one new chunk (the number) per call and
    # "the" in every call. Past the default size the old code emptied the cache under a call and
    # raised KeyError('the').
    assert pretokenize("the w17x") == ["the", " w", "17", "x"]
    default = inspect.signature(BPETokenizer).parameters["cache_size"].default
    tok = BPETokenizer(MERGED)
    calls = default + 200
    for i in range(calls):
        ids = tok.encode(f"the w{i}x")
        if i % 4093 == 0 or i >= default - 5:
            expected = [257, 258, *f"{i}x".encode()]
            assert ids == expected, i
    assert len(tok._cache) <= default
    # the chunks of the latest calls are still cached; the oldest went first
    assert str(calls - 1) in tok._cache and "0" not in tok._cache and "the" in tok._cache


@pytest.mark.parametrize("one_pass", [False, True])
@pytest.mark.parametrize("new_words", [3, 600])  # one by one, and batched (>= BATCH_MIN)
def test_a_call_mixing_cached_and_new_repeated_chunks(new_words, one_pass, monkeypatch):
    # A cold call dedupes, merges, then gathers; or (one_pass, from ONE_PASS_MIN chunks) looks
    # each chunk up once, a new chunk getting a list filled after the merge. New chunks are
    # repeated, cached ones between them: each chunk's ids as merged alone, either way.
    monkeypatch.setattr(bpe, "ONE_PASS_MIN", 0 if one_pass else 10**9)
    tok = BPETokenizer(MERGED)
    assert tok.encode("the word") == [257, 259, 260]
    numbers = [f" {i:04d}x" for i in range(new_words)]
    text = "the word" + "".join(numbers) + " the" + "".join(reversed(numbers)) + " word rd"
    chunks = pretokenize(text)
    expected = [i for chunk in chunks for i in tok._encode_chunk(chunk)]
    assert tok.encode(text) == expected
    assert all(type(ids) is tuple for ids in tok._cache.values())
    assert set(tok._cache) == set(chunks) | {"the", " word"}
    assert tok.encode(text) == expected  # now every chunk is cached
    assert BPETokenizer(MERGED).encode(text) == expected  # an empty cache
    assert BPETokenizer(MERGED, cache_size=2).encode(text) == expected
    assert expected[:3] == [257, 259, 260] and expected[-4:] == [259, 260, 32, 260]
