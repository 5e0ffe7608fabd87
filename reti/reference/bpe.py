"""Byte-level BPE written plainly (notes: Subword Encoders, Byte Pair Encoding), to read in one
sitting; ``reti.tokenize.BPETokenizer`` is the fast twin and a test checks that both learn the
same merges and give the same ids.

Training: cut the text into chunks (GPT-2's pattern: words with their leading space, numbers,
punctuation, spaces; merges never cross a chunk), write each chunk as its UTF-8 bytes, then
repeat: count every adjacent pair of tokens (a chunk that occurs n times counts n times), take
the most frequent pair (ties: the smallest ids), make its bytes a new token, replace the pair
everywhere. Stop at ``vocab_size`` or when no pair occurs ``min_frequency`` times. Every count
is recomputed from scratch at every merge: slow (the fast twin updates only what changed), but
nothing to trust except the definition.

Encoding a chunk: start from its bytes and merge, again and again, the adjacent pair whose
joined bytes is the *oldest* token (the lowest id), until no adjacent pair is a token. Special
tokens (``<|endoftext|>``) are cut out of the text first and get the ids after the merges.
"""

from __future__ import annotations

from collections import Counter

import regex

GPT2_SPLIT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def pair_counts(words: Counter[tuple[int, ...]]) -> Counter[tuple[int, int]]:
    """How often each adjacent pair of ids occurs, each word weighted by its frequency."""
    counts: Counter[tuple[int, int]] = Counter()
    for word, freq in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] += freq
    return counts


def merge(word: tuple[int, ...], pair: tuple[int, int], new: int) -> tuple[int, ...]:
    """``word`` with every occurrence of ``pair`` (left to right, not overlapping) -> ``new``."""
    out, i = [], 0
    while i < len(word):
        if word[i : i + 2] == pair:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


class PlainBPE:
    """``vocab[i]`` is the bytes of token i (the 256 bytes first, then one token per merge);
    ``merges`` the pairs of ids that made them; special tokens come after."""

    def __init__(self, vocab: list[bytes], merges: list[tuple[int, int]], specials: list[str]):
        self.vocab, self.merges = vocab, merges
        self.special_tokens = {s: len(vocab) + k for k, s in enumerate(specials)}
        self.ids = {token: i for i, token in enumerate(vocab)}

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        special_tokens: tuple[str, ...] = ("<|endoftext|>",),
        min_frequency: int = 2,
    ) -> PlainBPE:
        """Learn merges until ``vocab_size`` tokens (bytes + merges + special tokens)."""
        if vocab_size < 256 + len(special_tokens):
            raise ValueError(f"vocab_size must be >= {256 + len(special_tokens)}, got {vocab_size}")
        chunks = Counter(chunk for piece in _without_specials(text, special_tokens)
                         for chunk in regex.findall(GPT2_SPLIT, piece))  # fmt: skip
        words = Counter({tuple(chunk.encode("utf-8")): n for chunk, n in chunks.items()})
        vocab = [bytes([b]) for b in range(256)]
        merges: list[tuple[int, int]] = []
        while len(vocab) < vocab_size - len(special_tokens):
            counts = pair_counts(words)
            if not counts:
                break
            pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
            if counts[pair] < min_frequency:
                break
            token = vocab[pair[0]] + vocab[pair[1]]
            if token in vocab:  # "ab" + "c" after "a" + "bc": the same bytes, the same token
                new = vocab.index(token)
            else:
                new = len(vocab)
                vocab.append(token)
                merges.append(pair)
            merged: Counter[tuple[int, ...]] = Counter()
            for word, freq in words.items():
                merged[merge(word, pair, new)] += freq
            words = merged
        return cls(vocab, merges, list(special_tokens))

    def encode_chunk(self, chunk: str) -> list[int]:
        """Merge the adjacent pair whose bytes is the oldest token, until none is a token."""
        parts = [bytes([b]) for b in chunk.encode("utf-8")]
        while len(parts) > 1:
            joined = [parts[i] + parts[i + 1] for i in range(len(parts) - 1)]
            known = [(self.ids[j], i) for i, j in enumerate(joined) if j in self.ids]
            if not known:
                break
            _, i = min(known)  # the lowest id; the leftmost of equal pairs
            parts[i : i + 2] = [joined[i]]
        return [self.ids[p] for p in parts]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; special-token strings become their ids."""
        ids: list[int] = []
        for piece in regex.split(_special_pattern(self.special_tokens), text):
            if piece in self.special_tokens:
                ids.append(self.special_tokens[piece])
            elif piece:
                for chunk in regex.findall(GPT2_SPLIT, piece):
                    ids += self.encode_chunk(chunk)
        return ids

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids`` (bytes that are not UTF-8 become U+FFFD)."""
        by_id = {i: s.encode("utf-8") for s, i in self.special_tokens.items()}
        return b"".join(by_id.get(i) or self.vocab[i] for i in ids).decode("utf-8", "replace")


def _special_pattern(specials) -> str:
    """A pattern that splits text around the special tokens, keeping them (longest first)."""
    if not specials:
        return r"(?!)"  # matches nothing
    return "(" + "|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)) + ")"


def _without_specials(text: str, specials) -> list[str]:
    """The pieces of ``text`` between special tokens (which are never merged)."""
    return [p for p in regex.split(_special_pattern(specials), text) if p not in specials]
