"""The plain BPE of ``reti.reference.bpe`` against the fast ``reti.tokenize.BPETokenizer``: the
same tokens in the same order (so the same merges) and the same ids on a corpus with English,
Italian accents, CJK, emoji and a special token; round trips; a hand-worked merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from reti.reference.bpe import PlainBPE, merge, pair_counts
from reti.tokenize import BPETokenizer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus() -> str:
    docs = (ROOT / "docs" / "tokenizers.md").read_text(encoding="utf-8")
    italian = (ROOT / "docs" / "it" / "README.md").read_text(encoding="utf-8")
    odd = "Caffè, naïve, 世界, 😀👍🏽 — fine.<|endoftext|>won't we'll 1600 1601\n\n\t  "
    return docs[:6000] + "<|endoftext|>" + italian[:6000] + odd * 3


def test_a_hand_worked_merge():
    words = {(1, 2, 1, 2, 2): 2, (2, 2): 1}
    assert pair_counts(words) == {(1, 2): 4, (2, 1): 2, (2, 2): 3}
    assert merge((1, 2, 1, 2, 2), (1, 2), 9) == (9, 9, 2)
    assert merge((2, 2, 2), (2, 2), 9) == (9, 2)  # left to right, never overlapping


def test_same_merges_and_ids_as_the_fast_tokenizer(corpus):
    plain = PlainBPE.train(corpus, vocab_size=256 + 120)
    fast = BPETokenizer.train(corpus, vocab_size=256 + 120)
    assert len(plain.merges) > 100  # it really learned: the vocabulary is (almost) full
    assert fast.vocab_size == len(plain.vocab) + 1
    assert [fast.token_bytes(i) for i in range(len(plain.vocab))] == plain.vocab
    assert plain.special_tokens == fast.special_tokens
    for text in (corpus, "Caffè per tutti: l'encoder!<|endoftext|> 😀", "", "   x  "):
        ids = plain.encode(text)
        assert ids == fast.encode(text, allowed_special="all")
        assert plain.decode(ids) == text == fast.decode(ids)


def test_merges_build_every_token_from_two_older_ones(corpus):
    plain = PlainBPE.train(corpus, vocab_size=300)
    new_tokens = plain.vocab[256:]
    assert [plain.vocab[a] + plain.vocab[b] for a, b in plain.merges] == new_tokens
    assert all(a < 256 + k and b < 256 + k for k, (a, b) in enumerate(plain.merges))


def test_stops_when_no_pair_repeats_and_refuses_a_tiny_vocabulary():
    assert PlainBPE.train("abcd", vocab_size=400).merges == []  # every pair occurs once
    assert PlainBPE.train("abab", vocab_size=400, min_frequency=1).vocab[256:] == [b"ab", b"abab"]
    with pytest.raises(ValueError, match="vocab_size must be >= 257, got 256"):
        PlainBPE.train("abab", vocab_size=256)
