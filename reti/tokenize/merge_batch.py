"""BPE merging of many chunks at once with numpy: the same ids as ``bpe._bpe_merge`` chunk by
chunk (merge the lowest-rank adjacent pair, leftmost first, until no adjacent pair is a token;
notes: Subword Encoders, Byte Pair Encoding), in rounds over all chunks together.

A round finds each chunk's lowest pair rank ``r`` and merges its occurrences of ``r`` left to
right, as the one-chunk loop would in its next steps; in a run of overlapping occurrences
(``a a a``) the 1st, 3rd... merge. That holds while no merge creates a pair of rank below ``r``
(the loop would merge that pair next). GPT-2's ranks allow it (`` deliberately`` 14593 is
`` deliberate`` 18988 + ``ly``; 22,180 of its 108,299 token splits are like that), so a round
looks up the two pairs each merge creates and, in a chunk where one ranks below ``r``, stops
after that merge. The rounds replay the loop exactly, for any ranks.

Pair ranks come from ``PairTable``: (left id, right id) -> the rank of the token whose bytes are
bytes(left) + bytes(right), for every split of every token into two tokens, in a hash table
looked up with numpy. Only the pairs a merge creates are looked up; the first pairs (two bytes)
come from a 256 x 256 table. Measured on GPT-2 (shared 2-core machine, process CPU time): the
table ~0.04 s once per tokenizer; the 23,636 multi-token chunks of the Shakespeare bench text
~0.03 s, against ~0.11-0.2 s one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

NONE = np.int32((1 << 31) - 2)  # the rank of a pair that is not a token
END = np.int32((1 << 31) - 1)  # the "pair" at a chunk's last position
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: key * 2^64/phi, top bits
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # an empty slot of the hash table
_BASES = (0x100000001B3, 0x9E3779B97F4A7C15)  # two odd bases for the substring hashes


class _HashMap:
    """uint64 keys (distinct) -> int32 values: open addressing, linear probing, load <= 1/4,
    both built and looked up with numpy."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, missing: int):
        bits = max(10, (4 * len(keys)).bit_length())
        self._shift = np.uint64(64 - bits)
        size = (1 << bits) + len(keys)  # room to probe past the end: no wrap-around
        self._keys = np.full(size, _EMPTY, np.uint64)
        self._values = np.full(size, missing, np.int32)
        # linear probing, all at once: in home-slot order each key takes the first free slot
        # from its home on, slot_i = max(home_i, slot_(i-1) + 1) = i + max_(j<=i)(home_j - j)
        order = np.argsort(self._slots(keys))
        home = self._slots(keys)[order]
        step = np.arange(len(keys))
        slots = step + np.maximum.accumulate(home - step) if len(keys) else home
        self._keys[slots] = keys[order]
        self._values[slots] = values[order]

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * _GOLDEN) >> self._shift).astype(np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key; ``missing`` where absent."""
        slots = self._slots(keys)
        found = self._keys[slots]
        out = self._values[slots]  # right wherever the slot holds the key or is empty
        probe = np.flatnonzero((found != keys) & (found != _EMPTY))
        while len(probe):
            slots_p = slots[probe] + 1
            slots[probe] = slots_p
            found = self._keys[slots_p]
            out[probe] = self._values[slots_p]
            probe = probe[(found != keys[probe]) & (found != _EMPTY)]
        return out


def _prefix_hashes(digits: np.ndarray, local: np.ndarray, start: np.ndarray, base: int):
    """Polynomial hash (mod 2^64) of each token's prefix ending at each byte, and the powers of
    ``base``: h = sum d_i base^(m-i) = base^m * cumsum(d_i base^-i), base odd so invertible."""
    inverse = pow(base, -1, 1 << 64)
    top = int(local.max()) + 2
    powers = np.array([pow(base, i, 1 << 64) for i in range(top)], np.uint64)
    inverses = np.array([pow(inverse, i, 1 << 64) for i in range(top)], np.uint64)
    total = np.concatenate([np.zeros(1, np.uint64), np.cumsum(digits * inverses[local])])
    return powers[local] * (total[1:] - total[start]), powers


def _splits(ranks: Mapping[bytes, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, merged) ranks for every split of every token into two tokens. Substrings
    are matched by two 64-bit polynomial hashes and their length; a vocabulary whose tokens
    collide in the first hash takes the plain loop."""
    tokens = list(ranks)
    values = np.fromiter(ranks.values(), np.int64, len(tokens))
    n = np.fromiter(map(len, tokens), np.int64, len(tokens))
    owner = np.repeat(np.arange(len(tokens)), n)  # the token of each byte
    ends = np.cumsum(n)
    start = (ends - n)[owner]
    local = np.arange(len(owner)) - start
    digits = np.frombuffer(b"".join(tokens), np.uint8).astype(np.uint64) + np.uint64(1)
    cut = np.flatnonzero(local < n[owner] - 1)  # prefix t[:k] ends at byte cut, k = local + 1
    token, k = owner[cut], local[cut] + 1
    checks = []
    for base in _BASES:
        h, powers = _prefix_hashes(digits, local, start, base)
        full = h[ends - 1]
        checks.append((full, h[cut], full[token] - h[cut] * powers[n[token] - k]))
    (full, prefix, suffix), (full2, prefix2, suffix2) = checks
    index = _HashMap(full, np.arange(len(tokens)), -1)
    if not np.array_equal(index.get(full), np.arange(len(tokens))):  # two tokens, one hash
        return _splits_loop(ranks)
    left, right = index.get(prefix), index.get(suffix)
    ok = (left >= 0) & (right >= 0)
    left, right, token, k = left[ok], right[ok], token[ok], k[ok]
    prefix2, suffix2 = prefix2[ok], suffix2[ok]
    ok = (n[left] == k) & (n[right] == n[token] - k)
    ok &= (full2[left] == prefix2) & (full2[right] == suffix2)
    return values[left[ok]], values[right[ok]], values[token[ok]]


def _splits_loop(ranks: Mapping[bytes, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_splits`` by slicing every token in Python (GPT-2: ~0.08 s)."""
    get = ranks.get
    triples = []
    for token, rank in ranks.items():
        for k in range(1, len(token)):
            left = get(token[:k])
            if left is not None and (right := get(token[k:])) is not None:
                triples.append((left, right, rank))
    left, right, merged = np.array(triples, np.int64).reshape(-1, 3).T
    return left, right, merged


class PairTable:
    """(left id, right id) -> rank of the token bytes(left) + bytes(right), else ``NONE``; and
    the ids and pair ranks of single bytes. Ranks must be below ``NONE`` (int32 arrays)."""

    def __init__(self, ranks: Mapping[bytes, int]):
        if max(ranks.values()) >= NONE or min(ranks.values()) < 0:
            raise ValueError(f"batch merging needs ranks in [0, {NONE}), got larger ones")
        left, right, merged = _splits(ranks)
        self.width = np.uint64(max(ranks.values()) + 1)
        keys = left.astype(np.uint64) * self.width + right.astype(np.uint64)
        self._map = _HashMap(keys, merged, NONE)
        self.byte_ids = np.array([ranks[bytes([b])] for b in range(256)], np.int32)
        order = np.argsort(self.byte_ids)
        where = np.minimum(np.searchsorted(self.byte_ids[order], [left, right]), 255)
        is_byte = self.byte_ids[order[where]] == [left, right]
        two = is_byte[0] & is_byte[1]  # a split into two single bytes
        self.byte_pairs = np.full(256 * 256, NONE, np.int32)
        self.byte_pairs[order[where[0, two]] * 256 + order[where[1, two]]] = merged[two]

    def lookup(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Ranks of the pairs (``left[i]``, ``right[i]``); ``NONE`` where not a token."""
        return self._map.get(left.astype(np.uint64) * self.width + right.astype(np.uint64))


def merge_batch(pieces: Sequence[bytes], table: PairTable) -> list[tuple[int, ...]]:
    """The ids of each chunk in ``pieces`` (byte strings of 2 bytes or more), merged together in
    rounds. Arrays over the active chunks' positions: ``ids``, and ``pr[i]`` the rank of the
    pair (``ids[i]``, ``ids[i + 1]``), ``END`` at each chunk's last position."""
    if not pieces:
        return []
    lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
    raw = np.frombuffer(b"".join(pieces), np.uint8)
    ids = table.byte_ids[raw]
    pr = np.empty(len(ids), np.int32)
    pr[:-1] = table.byte_pairs[(raw[:-1].astype(np.int32) << 8) | raw[1:]]
    ends = np.cumsum(lengths)
    pr[ends - 1] = END
    chunk = np.arange(len(pieces))  # the original index of each active chunk
    done_ids, done_chunks, done_lengths = [], [], []
    while True:
        best = np.minimum.reduceat(pr, ends - lengths)
        finished = best >= NONE  # no pair left: the chunk's ids are final
        if finished.any():
            gone = np.repeat(finished, lengths)
            done_ids.append(ids[gone])
            done_chunks.append(chunk[finished])
            done_lengths.append(lengths[finished])
            if finished.all():
                break
            best[finished] = -1  # matches no pair rank; the chunk leaves with this round
        else:
            gone = np.zeros(len(ids), bool)
        gone, lengths = _round(ids, pr, lengths, ends, best, gone, table)
        ids, pr = ids[~gone], pr[~gone]
        chunk, lengths = chunk[~finished], lengths[~finished]
        ends = np.cumsum(lengths)
    return _tuples(done_ids, done_chunks, done_lengths)


def _round(ids, pr, lengths, ends, best, gone, table):
    """One round, in place: every chunk merges its occurrences of its lowest rank ``best``, left
    to right, up to the first merge that creates a pair of lower rank. Marks the right halves of
    the merges in ``gone``; returns it with the new lengths."""
    at = np.flatnonzero(pr == np.repeat(best, lengths))  # left positions of the occurrences
    if len(at) > 1:  # overlapping occurrences (a run p, p+1, ...): only every other one merges
        run = at[1:] == at[:-1] + 1
        if run.any():
            at = at[_every_other(np.concatenate([[False], run]))]
    seg = np.searchsorted(ends, at, side="right")  # the chunk of each occurrence
    rank = best[seg]
    first = at == ends[seg] - lengths[seg]
    after_prev = np.zeros(len(at), bool)  # the merge two to the left also happened
    after_prev[1:] = at[1:] == at[:-1] + 2
    left_id = np.where(after_prev, rank, ids[at - 1])  # at - 1 = -1 only where first
    left_rank = np.where(first, END, table.lookup(left_id, rank))
    last = pr[at + 1] == END
    right_rank = np.where(last, END, table.lookup(rank, ids[np.minimum(at + 2, len(ids) - 1)]))
    lower = (left_rank < rank) | (right_rank < rank)
    if lower.any():  # stop each chunk after its first merge that creates a lower pair
        seen = np.cumsum(lower) - lower
        new = np.ones(len(at), bool)
        new[1:] = seg[1:] != seg[:-1]
        ok = seen == seen[np.maximum.accumulate(np.where(new, np.arange(len(at)), 0))]
        at, rank, seg, first = at[ok], rank[ok], seg[ok], first[ok]
        left_rank, right_rank = left_rank[ok], right_rank[ok]
        after_prev = np.zeros(len(at), bool)
        after_prev[1:] = at[1:] == at[:-1] + 2
    # the pair right of a merge: with the next merge's token if that merge is two on
    after_next = np.zeros(len(at), bool)
    after_next[:-1] = after_prev[1:]
    right_rank[after_next] = left_rank[1:][after_prev[1:]]
    ids[at] = rank
    pr[at] = right_rank
    inner = ~first & ~after_prev
    pr[at[inner] - 1] = left_rank[inner]
    gone[at + 1] = True
    return gone, lengths - np.bincount(seg, minlength=len(lengths))


def _every_other(run: np.ndarray) -> np.ndarray:
    """Within each run of consecutive occurrences (``run[k]``: k follows k-1), keep the 1st,
    3rd, 5th..."""
    index = np.arange(len(run))
    head = np.maximum.accumulate(np.where(run, 0, index))
    return (index - head) % 2 == 0


def _tuples(done_ids, done_chunks, done_lengths) -> list[tuple[int, ...]]:
    """Each chunk's ids as a tuple, in the chunks' original order."""
    flat = tuple(np.concatenate(done_ids).tolist())
    lengths = np.concatenate(done_lengths)
    ends = np.cumsum(lengths)
    order = np.argsort(np.concatenate(done_chunks))
    ends = ends[order]
    starts = ends - lengths[order]
    return list(map(flat.__getitem__, map(slice, starts.tolist(), ends.tolist())))
