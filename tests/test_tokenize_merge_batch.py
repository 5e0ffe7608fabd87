"""Merging many chunks at once (``merge_batch``) gives, chunk for chunk, the ids of the one-chunk
loop ``_bpe_merge``: on GPT-2's ranks (which break "a merge never creates a lower pair"), on a
small trained vocabulary, and on every short string over a hand-made vocabulary built to break
that rule in several ways."""

from __future__ import annotations

import random
from itertools import product

import numpy as np
import pytest

from reti.data import fetch
from reti.tokenize import BPETokenizer, load_gpt2, load_tiktoken_ranks
from reti.tokenize.bpe import BATCH_MIN, _bpe_merge
from reti.tokenize.merge_batch import merge_batch
from reti.tokenize.pair_table import NONE, PairTable
from reti.tokenize.pretokenize import pretokenize

VARIED = (
    "Hello world, it's 2024: naïve café résumé Ωμέγα Москва 東京 서울 ١٢٣ ½ ² ① "
    "aaaaaaa bbbbbbbbbbbbbbbbb !!!!!! ?!?!?!?! ........ -------- ======== ******** "
    "        \n\n\n\n\t\t\t 1234567890123456789 3.14159 0x1F 007 deliberately "
    "antidisestablishmentarianism supercalifragilisticexpialidocious  emoji 😀🎉👍🏽 "
    "e\u0301 a\u0308 \x00\x01\x1c\x7f\u00a0\u3000\ufeff "
    "'s 've 're 'll ''''''' \"\"\"\"\" ((((())))) [[[]]] {{{}}} ___ ~~~ ^^^ ||| "
)


def _scalar(pieces, ranks):
    return [tuple(_bpe_merge(piece, ranks)) for piece in pieces]


def _tokenizer_rule(pieces, ranks):
    """A chunk that is a token is that token; the rest as ``_bpe_merge`` (tiktoken's rule)."""
    return [(ranks[p],) if p in ranks else tuple(_bpe_merge(p, ranks)) for p in pieces]


def _same_both_ways(pieces, ranks, table=None):
    table = table or PairTable(ranks)
    assert merge_batch(pieces, table, whole=False) == _scalar(pieces, ranks)
    assert merge_batch(pieces, table) == _tokenizer_rule(pieces, ranks)


def _split_oracle(ranks):
    """Every split of every token into two tokens, by slicing: (left, right) -> merged."""
    return {
        (ranks[t[:k]], ranks[t[k:]]): r
        for t, r in ranks.items()
        for k in range(1, len(t))
        if t[:k] in ranks and t[k:] in ranks
    }


def _varied_pieces(seed: int, count: int) -> list[bytes]:
    """Chunks of VARIED, random byte strings (short and up to 300 bytes), runs of one byte,
    and random slices of VARIED's bytes (cutting characters mid-way)."""
    rng = random.Random(seed)
    pieces = [chunk.encode() for chunk in pretokenize(VARIED)]
    raw = VARIED.encode()
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            piece = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
        elif kind == 1:
            piece = bytes([rng.choice(b"a !-=.\n0e")]) * rng.randrange(1, 40)
        elif kind == 2:
            start = rng.randrange(len(raw) - 1)
            piece = raw[start : start + rng.randrange(1, 60)]
        else:
            piece = bytes(rng.choice(b"abcdeilnorst ") for _ in range(rng.randrange(20, 300)))
        pieces.append(piece)
    return [p for p in pieces if p]


@pytest.mark.network
def test_gpt2_ranks_chunk_for_chunk():
    ranks = load_tiktoken_ranks(fetch("gpt2") / "gpt2.tiktoken")
    table = PairTable(ranks)
    pieces = _varied_pieces(0, 3000)
    _same_both_ways(pieces, ranks, table)
    # GPT-2 breaks the rule: " deliberate" (18988) + "ly" makes " deliberately" (14593)
    assert ranks[b" deliberately"] < ranks[b" deliberate"]
    assert merge_batch([b" deliberately"], table, whole=False) == [(ranks[b" deliberately"],)]
    oracle = _split_oracle(ranks)
    left, right = (np.array(side) for side in zip(*oracle))
    assert table.lookup(left, right).tolist() == list(oracle.values())
    assert table.size == len(oracle) == 108_299


@pytest.mark.network
def test_gpt2_one_large_call_matches_tiktoken(gpt2_oracle):
    oracle, files = gpt2_oracle, fetch("gpt2")
    text = " ".join(p.decode("utf-8", "replace") for p in _varied_pieces(1, 2000))
    fresh = load_gpt2(files / "gpt2.tiktoken")
    assert len(set(pretokenize(text))) > BATCH_MIN  # one call, batch merged
    assert fresh.encode_ordinary(text) == oracle.encode_ordinary(text)


def _trained() -> BPETokenizer:
    corpus = ("the cat sat on the mat; the rat ate the hat. " * 20) + VARIED * 3
    return BPETokenizer.train(corpus, vocab_size=400, min_frequency=2)


def test_trained_vocabulary_chunk_for_chunk():
    ranks = _trained()._ranks
    assert len(ranks) > 300
    pieces = _varied_pieces(2, 1500)
    _same_both_ways(pieces, ranks)


def test_pair_table_holds_every_split_and_nothing_else():
    ranks = _trained()._ranks
    table, oracle = PairTable(ranks), _split_oracle(ranks)
    assert table.size == len(oracle) > 100
    left, right = (np.array(side) for side in zip(*oracle))
    assert table.lookup(left, right).tolist() == list(oracle.values())
    rng = np.random.default_rng(0)
    left, right = rng.integers(0, len(ranks), (2, 5000))
    expected = [oracle.get(pair, NONE) for pair in zip(left.tolist(), right.tolist())]
    assert table.lookup(left, right).tolist() == expected


# Tokens over a, b, c whose ranks break the rule in several ways: "abc" ranks below its parts
# "ab" and "bc", "aaa" below "aa", "cab" below "ca"; and "bab" = "ba" + "b" = "b" + "ab".
HAND = {**{bytes([b]): b for b in range(256)}}
HAND.update({b"aaa": 256, b"abc": 257, b"cab": 258, b"ab": 259, b"bc": 260, b"aa": 261})
HAND.update({b"ca": 262, b"ba": 263, b"bab": 264, b"cc": 265, b"abcab": 266, b"aab": 267})
HAND[b"acb"] = 268  # no pair of it is a token: only the whole-chunk rule finds it


def test_hand_vocabulary_that_breaks_the_rule_every_short_string():
    assert HAND[b"abc"] < HAND[b"ab"] and HAND[b"aaa"] < HAND[b"aa"]
    pieces = [bytes(s) for n in range(1, 9) for s in product(b"abc", repeat=n)]
    _same_both_ways(pieces, HAND)
    table = PairTable(HAND)
    assert merge_batch([b"acb"], table) == [(268,)]
    assert merge_batch([b"acb"], table, whole=False) == [(97, 99, 98)]


def test_hand_vocabulary_through_the_tokenizer():
    rng = random.Random(3)
    words = {"".join(rng.choice("abc") for _ in range(rng.randrange(1, 12))) for _ in range(900)}
    text = " ".join(sorted(words))
    batched = BPETokenizer(HAND)
    assert len(set(pretokenize(text))) >= BATCH_MIN
    one_by_one = [BPETokenizer(HAND).encode(chunk) for chunk in pretokenize(text)]
    assert batched.encode(text) == [i for ids in one_by_one for i in ids]
    assert batched._pairs  # the batch path ran
    # a lone surrogate met in the batch path: tiktoken's rule (it becomes U+FFFD), new chunks
    odd = text.replace(" ", " c", 400) + " \ud800 "
    assert BPETokenizer(HAND).encode(odd) == BPETokenizer(HAND, cache_size=0).encode(
        odd.replace("\ud800", "\ufffd")
    )


def test_pair_table_lookup():
    table = PairTable(HAND)
    left = np.array([HAND[b"ab"], HAND[b"a"], HAND[b"b"], HAND[b"c"]])
    right = np.array([HAND[b"c"], HAND[b"bc"], HAND[b"ab"], HAND[b"b"]])
    assert table.lookup(left, right).tolist() == [257, 257, 264, NONE]
    assert merge_batch([], table) == []
