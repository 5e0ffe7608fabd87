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


def _sites(word: list[int], a: int, b: int) -> list[int]:
    """Start positions of the non-overlapping (a, b) in ``word``, left to right."""
    sites, i, n = [], 0, len(word) - 1
    while i < n:
        if word[i] == a and word[i + 1] == b:
            sites.append(i)
            i += 2
        else:
            i += 1
    return sites


def _apply(word, sites, new, freq, w, pair_count, where, touched) -> list[int]:
    """Merge at ``sites`` and update the counts of the pairs around them only: each site loses
    its left and right neighbour pairs (a pair between two adjacent sites is lost once) and each
    new token gains its own (a pair between two new tokens is gained once)."""
    n = len(word)
    if len(sites) == 1:  # the common case, written out
        s = sites[0]
        out = word[:s] + [new] + word[s + 2 :]
        gained = []
        if s > 0:
            pair_count[(word[s - 1], word[s])] -= freq
            gained.append((word[s - 1], new))
        if s + 2 < n:
            pair_count[(word[s + 1], word[s + 2])] -= freq
            gained.append((new, word[s + 2]))
        for pair in gained:
            pair_count[pair] += freq
            where[pair].add(w)
            touched.add(pair)
        return out
    out: list[int] = []
    placed: list[int] = []
    start = 0
    for k, s in enumerate(sites):
        if s > 0:
            pair_count[(word[s - 1], word[s])] -= freq
        if s + 2 < n and not (k + 1 < len(sites) and sites[k + 1] == s + 2):
            pair_count[(word[s + 1], word[s + 2])] -= freq
        out.extend(word[start:s])
        placed.append(len(out))
        out.append(new)
        start = s + 2
    out.extend(word[start:])
    last = len(out) - 1
    for k, p in enumerate(placed):
        gained = []
        if p > 0:
            gained.append((out[p - 1], new))
        if p < last and not (k + 1 < len(placed) and placed[k + 1] == p + 1):
            gained.append((new, out[p + 1]))
        for pair in gained:
            pair_count[pair] += freq
            where[pair].add(w)
            touched.add(pair)
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
            sites = _sites(words[w], a, b)
            if sites:  # else the pair left this word in an earlier merge
                words[w] = _apply(words[w], sites, new, freqs[w], w, pair_count, where, touched)
        pair_count.pop((a, b), None)
        for pair in touched:  # only pairs with the new token can have grown
            if pair_count[pair] > 0:
                heapq.heappush(heap, (-pair_count[pair], *pair))
    return merges
