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

Pair ranks come from ``PairTable`` (``reti.tokenize.pair_table``), which also finds the chunks
that are whole tokens (tiktoken's rule: such a chunk is that token). Only the pairs a merge
creates are looked up; the first pairs (two bytes) come from a 256 x 256 table. Measured on the
Shakespeare bench text (36,352 distinct chunks, 23,636 of them not a token; shared 2-core
machine, CPU time): ~0.04 s for all of them, against 0.11-0.24 s one by one with ``_bpe_merge``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from reti.tokenize.pair_table import END, NONE, PairTable


def merge_batch(
    pieces: Sequence[bytes], table: PairTable, whole: bool = True
) -> list[tuple[int, ...]]:
    """The ids of each chunk in ``pieces`` (non-empty byte strings). With ``whole`` a chunk that
    is a token is that token (tiktoken's rule, the tokenizer's); without, every chunk is merged
    from its bytes (as ``_bpe_merge`` does)."""
    lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
    return merge_joined(b"".join(pieces), lengths, table, whole)


def merge_joined(
    raw: bytes, lengths: np.ndarray, table: PairTable, whole: bool = True
) -> list[tuple[int, ...]]:
    """``merge_batch`` for chunks laid end to end in ``raw``, ``lengths`` bytes each (>= 1).

    The rounds work on arrays over the active chunks' positions: ``ids``, and ``pr[i]`` the rank
    of the pair (``ids[i]``, ``ids[i + 1]``), ``END`` at each chunk's last position."""
    if not len(lengths):
        return []
    raw = np.frombuffer(raw, np.uint8)
    chunk = np.arange(len(lengths))  # the original index of each active chunk
    done_ids, done_chunks, done_lengths = [], [], []
    if whole:
        rank = table.whole(raw, lengths)
        hit = rank >= 0
        done_ids.append(rank[hit])
        done_chunks.append(chunk[hit])
        done_lengths.append(np.ones(len(done_ids[0]), np.int64))
        raw, chunk, lengths = raw[~np.repeat(hit, lengths)], chunk[~hit], lengths[~hit]
        if not len(lengths):
            return _tuples(done_ids, done_chunks, done_lengths, table.singles)
    ids = table.byte_ids[raw]
    pr = np.empty(len(ids), np.int32)
    pr[:-1] = table.byte_pairs[(raw[:-1].astype(np.int32) << 8) | raw[1:]]
    ends = np.cumsum(lengths)
    pr[ends - 1] = END
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
    return _tuples(done_ids, done_chunks, done_lengths, table.singles)


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


def _tuples(done_ids, done_chunks, done_lengths, singles) -> list[tuple[int, ...]]:
    """Each chunk's ids as a tuple, in the chunks' original order; a one-token chunk gets the
    table's shared 1-tuple (fewer new objects for the garbage collector to walk)."""
    ids = np.concatenate(done_ids)
    lengths = np.concatenate(done_lengths)
    ends = np.cumsum(lengths)
    order = np.argsort(np.concatenate(done_chunks))
    ends, lengths = ends[order], lengths[order]
    out = list(map(singles.__getitem__, ids[ends - lengths].tolist()))  # first ids, for now
    multi = np.flatnonzero(lengths > 1)
    flat = tuple(ids.tolist())
    slices = map(slice, (ends[multi] - lengths[multi]).tolist(), ends[multi].tolist())
    deque(map(out.__setitem__, multi.tolist(), map(flat.__getitem__, slices)), maxlen=0)
    return out
