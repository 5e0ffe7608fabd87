"""BPE training (notes: Subword Encoders): count adjacent pairs over the unique pre-tokenized
chunks weighted by frequency, merge the most frequent pair, repeat.

Incremental, never a full rescan per merge: an index pair -> chunks that hold it, so a merge
rewrites only those chunks and adjusts their pair counts; the best pair comes from a heap with lazy
invalidation (a popped entry whose count is stale is re-pushed with the true count). Ties go to
the smallest (left id, right id), so training is deterministic.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping


def _merge_pair(word: list[int], a: int, b: int, new: int) -> list[int]:
    """Replace every non-overlapping (a, b) in ``word``, left to right, by ``new``."""
    out, i, n = [], 0, len(word)
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def learn_merges(
    counts: Mapping[str, int], vocab: list[bytes], size: int, min_frequency: int
) -> list[tuple[int, int]]:
    """Grow ``vocab`` (in place) by merges until ``len(vocab) == size``; returns the merges.

    A merge whose bytes already are a token (``ab+c`` after ``a+bc``) reuses that token's id.
    """
    words = [list(chunk.encode("utf-8")) for chunk in counts]
    freqs = list(counts.values())
    pair_count: defaultdict[tuple[int, int], int] = defaultdict(int)
    where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for w, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_count[pair] += freq
            where[pair].add(w)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    ids = {token: i for i, token in enumerate(vocab)}
    merges: list[tuple[int, int]] = []
    while len(vocab) < size and heap:
        neg, a, b = heapq.heappop(heap)
        current = pair_count.get((a, b), 0)
        if current != -neg:  # stale entry: re-push the true count
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        if current < min_frequency:
            break
        token = vocab[a] + vocab[b]
        new = ids.get(token)
        if new is None:
            new = ids[token] = len(vocab)
            vocab.append(token)
            merges.append((a, b))
        touched: set[tuple[int, int]] = set()
        for w in where.pop((a, b)):
            word = words[w]
            merged = _merge_pair(word, a, b, new)
            if len(merged) == len(word):
                continue  # the pair left this word in an earlier merge
            freq = freqs[w]
            for pair in zip(word, word[1:]):
                pair_count[pair] -= freq
            for pair in zip(merged, merged[1:]):
                pair_count[pair] += freq
                where[pair].add(w)
                if new in pair:
                    touched.add(pair)
            words[w] = merged
        pair_count.pop((a, b), None)
        for pair in touched:  # only pairs with the new token can have grown
            if pair_count[pair] > 0:
                heapq.heappush(heap, (-pair_count[pair], *pair))
    return merges
