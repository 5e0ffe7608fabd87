"""Byte-level BPE (notes: Subword Encoders, Byte Pair Encoding): start from the 256 bytes, count
adjacent pairs, merge the most frequent into a new token, repeat until the vocabulary is full.

Encoding follows tiktoken: a token's id is its *rank*; inside each pre-tokenized chunk the
adjacent pair whose concatenated bytes has the lowest rank is merged first (leftmost on ties),
until no adjacent pair is a token. The same core runs our trained vocabularies and the real GPT-2
ranks (``reti.tokenize.gpt2``), and makes the tiktoken export exact by construction. A call
with many new chunks merges them all at once with numpy (``merge_batch``, the same ids).

Training (``BPETokenizer.train``) works on the *unique* chunks weighted by their frequency and
keeps pair counts incrementally: a merge touches only the chunks that contain the pair (an index
pair -> chunks), and the best pair comes from a heap with lazy invalidation (an entry whose count
is stale is re-pushed with the current count when popped). No full rescan per merge.

Lone surrogates (not encodable as UTF-8) follow tiktoken's rule: the text is round-tripped
through UTF-16 with ``surrogatepass`` and decoded with ``replace``, so a valid surrogate pair
becomes its character and a lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

import base64
import gc
import operator
from collections import Counter, defaultdict, deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import filterfalse, islice, repeat
from pathlib import Path

import numpy as np

from reti.errors import ConfigError, DataError
from reti.io import atomic_write_json, atomic_write_text
from reti.tokenize.bpe_files import hf_document
from reti.tokenize.bpe_train import learn_merges
from reti.tokenize.jsonfile import check, field
from reti.tokenize.merge_batch import merge_joined
from reti.tokenize.pair_table import PairTable
from reti.tokenize.pretokenize import PATTERNS, encode_with_special, split_special, splitter

ENDOFTEXT = "<|endoftext|>"


_SINGLE_BYTES = [bytes([b]) for b in range(256)]
_NOT_A_TOKEN = 1 << 62
# New chunks in one call from which they are merged together with numpy (``merge_batch``).
# Measured on GPT-2 (random distinct Shakespeare chunks, median of 20): 256 chunks 0.87 ms one
# by one vs 1.04 ms together; 512: 1.67 vs 1.42 ms; 2048: 6.6 vs 3.5 ms.
BATCH_MIN = 384
# Chunks in one call from which a cold call looks each chunk up once (``_cold_path``): it saves
# a lookup per chunk and costs a list per distinct chunk. Shakespeare, 5.06 MB: ~0.29 s against
# ~0.31 s; 20-50 KB: ~5% slower; 100 KB (27 k chunks): even. Text that barely repeats (185 k
# distinct of 200 k chunks): ~10% slower.
ONE_PASS_MIN = 1 << 16


def _bpe_merge(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """The ids of one chunk: merge the lowest-rank adjacent pair (leftmost on ties) until no
    adjacent pair is a token. ``pair_ranks[k]`` is the rank of ``parts[k] + parts[k + 1]``; a merge
    changes only its two neighbours; ``map``/``min``/``index`` run the scans in C."""
    get = ranks.get
    parts = list(map(_SINGLE_BYTES.__getitem__, piece))
    pair_ranks = list(map(get, map(operator.add, parts, parts[1:]), repeat(_NOT_A_TOKEN)))
    while pair_ranks:
        best = min(pair_ranks)
        if best == _NOT_A_TOKEN:
            break
        i = pair_ranks.index(best)
        parts[i] += parts.pop(i + 1)
        del pair_ranks[i]
        if i < len(pair_ranks):
            pair_ranks[i] = get(parts[i] + parts[i + 1], _NOT_A_TOKEN)
        if i > 0:
            pair_ranks[i - 1] = get(parts[i - 1] + parts[i], _NOT_A_TOKEN)
    return list(map(ranks.__getitem__, parts))


def _concat(parts: Iterable[Sequence[int]]) -> list[int]:
    """``parts`` one after another: ``deque(maxlen=0)`` drives the ``list.extend`` calls in C
    (Shakespeare bench, gathering 1.36 M chunks: 0.066 s, against 0.083 s with
    ``list(chain.from_iterable(...))``)."""
    ids: list[int] = []
    deque(map(ids.extend, parts), maxlen=0)
    return ids


def _gather(cache: Mapping[str, tuple[int, ...]], chunks: list[str]) -> list[int]:
    """The cached ids of ``chunks``; KeyError for a chunk not cached."""
    return _concat(map(cache.__getitem__, chunks))


class BPETokenizer:
    """Byte-level BPE with special tokens. ``ranks`` maps token bytes to ids (all 256 single bytes
    must be there); ``special_tokens`` maps strings to ids above the ranks.

    >>> tok = BPETokenizer.train("low lower lowest " * 50, vocab_size=260)
    >>> tok.decode(tok.encode("lowly newest"))
    'lowly newest'
    """

    kind = "bpe"

    def __init__(
        self,
        ranks: Mapping[bytes, int],
        special_tokens: Mapping[str, int] | None = None,
        pattern: str = "gpt2",
        cache_size: int = 1 << 16,
    ):
        if not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigError(f"BPE cache_size must be an int >= 0, got {cache_size!r}")
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise ConfigError(f"BPE ranks must contain all 256 single bytes; missing {missing[:5]}")
        self.pattern = pattern
        self._ranks = dict(ranks)
        self.special_tokens = dict(special_tokens or {})
        self._decoder = {i: b for b, i in self._ranks.items()}
        self._decoder.update({i: s.encode("utf-8") for s, i in self.special_tokens.items()})
        if len(self._decoder) != len(self._ranks) + len(self.special_tokens):
            raise ConfigError("BPE ids must be unique across ranks and special tokens")
        self._vocab_size = max(self._decoder) + 1
        self._split = splitter(pattern)
        self._cache: dict[str, tuple[int, ...]] = {}
        self._cache_size = cache_size
        self._pairs: PairTable | bool | None = None  # see pair_table()

    def __repr__(self) -> str:
        specials = list(self.special_tokens)
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, pattern={self.pattern!r}, "
            f"special_tokens={specials})"
        )

    # ------------------------------------------------------------------ encode / decode
    @property
    def vocab_size(self) -> int:
        """One more than the largest id (ids may have gaps, as in GPT-2's specials)."""
        return self._vocab_size

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        piece = chunk.encode("utf-8")
        rank = self._ranks.get(piece)
        if rank is not None:
            return (rank,)
        return tuple(_bpe_merge(piece, self._ranks))

    def pair_table(self) -> PairTable | None:
        """The table that merges many chunks at once (``merge_batch``), built on first use
        (GPT-2: ~0.04 s); None where the ranks do not fit it (ids of 2^31 - 2 or more)."""
        if self._pairs is None:
            try:
                self._pairs = PairTable(self._ranks)
            except ValueError:
                self._pairs = False
        return self._pairs or None

    def _encode_chunks(self, chunks: list[str]) -> dict[str, tuple[int, ...]]:
        """chunk -> ids for new chunks: a chunk that is a token is its rank; the rest are merged
        one by one, or, from ``BATCH_MIN`` of them, together (``merge_batch``: the same ids)."""
        table = self.pair_table() if len(chunks) >= BATCH_MIN else None
        if table is None:
            return {chunk: self._encode_chunk(chunk) for chunk in chunks}
        joined = "".join(chunks)
        raw = joined.encode("utf-8")  # a lone surrogate raises here
        sizes = map(len, chunks) if len(raw) == len(joined) else map(len, map(str.encode, chunks))
        lengths = np.fromiter(sizes, np.int64, len(chunks))
        return dict(zip(chunks, merge_joined(raw, lengths, table)))

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of ``text`` with special-token strings treated as plain text.

        Chunks go through a cache (chunk -> ids): natural text repeats its words, so a text whose
        chunks are all cached costs one dict lookup per chunk, done in C with ``map``. Otherwise
        the missing chunks are merged and inserted, the ids gathered, and only then is the cache
        cut back to ``cache_size`` (``_evict``): nothing this call relies on can vanish under it.
        """
        chunks = self._split(text)
        try:
            return _gather(self._cache, chunks)
        except KeyError:
            pass
        collecting = gc.isenabled()
        gc.disable()  # see _cold_path
        try:
            return self._cold_path(text, chunks)
        finally:
            if collecting:  # as it was: a caller that had paused the collector keeps it paused
                gc.enable()

    def _cold_path(self, text: str, chunks: list[str]) -> list[int]:
        """The rest of a call that missed the cache. From ``ONE_PASS_MIN`` chunks, one lookup
        pass gives each distinct chunk a list, filled once the new chunks are merged, and one
        ``extend`` pass joins the lists; below, a dedupe pass, then lookup-and-extend. The
        collector is paused: a collection in between would walk all of ``chunks`` (1.36 M
        strings on the bench text, ~10 ms) to find it alive; new tuples of ints hold no cycles."""
        parts = None
        if len(chunks) >= ONE_PASS_MIN:
            seen: dict[str, list[int] | None] = defaultdict(list)
            parts = list(map(seen.__getitem__, chunks))
        else:
            seen = dict.fromkeys(chunks)
        cache = self._cache
        # new chunks in first-seen order: their tuples then lie in memory as the text first uses
        # them, and a later gather runs ~30% faster than in set order
        try:
            new = self._encode_chunks(list(filterfalse(cache.__contains__, seen)))
        except UnicodeEncodeError:  # lone surrogates: tiktoken's rule (module docstring)
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self.encode_ordinary(text)
        if cache:
            cache.update(new)
        else:  # the same dict, without copying it
            self._cache = cache = new
        if parts is None:
            ids = _gather(cache, chunks)
        else:
            deque(map(list.extend, seen.values(), map(cache.__getitem__, seen)), maxlen=0)
            ids = _concat(parts)
        if len(cache) > self._cache_size:
            self._evict(seen)
        return ids

    def _evict(self, recent: Collection[str]) -> None:
        """Cut the cache back to ``cache_size``: the oldest insertions go first, and the chunks
        of the call just made (``recent``) only if there is no other way. Bookkeeping happens
        only on calls that missed, so a cache hit stays one plain dict lookup."""
        cache = self._cache
        excess = len(cache) - self._cache_size
        drop = list(islice((chunk for chunk in cache if chunk not in recent), excess))
        if len(drop) < excess:
            drop += islice((chunk for chunk in cache if chunk in recent), excess - len(drop))
        for chunk in drop:
            del cache[chunk]

    def encode(
        self,
        text: str,
        allowed_special: str | Collection[str] = (),
        disallowed_special: str | Collection[str] = "all",
    ) -> list[int]:
        """Token ids of ``text``; special tokens as in tiktoken (see ``resolve_special``).

        Raises:
            DataError: the text contains a disallowed special token.
            ConfigError: ``allowed_special`` names a token this tokenizer does not have.
        """
        return encode_with_special(
            text, self.special_tokens, allowed_special, disallowed_special, self.encode_ordinary
        )

    def token_bytes(self, token: int) -> bytes:
        """The bytes a token stands for."""
        try:
            return self._decoder[token]
        except (KeyError, TypeError):
            raise ConfigError(
                f"token id must be an int in the vocabulary (size {self.vocab_size}), got {token!r}"
            ) from None

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The concatenated bytes of ``ids`` (may be invalid UTF-8 mid-character); ``ids`` may be
        a list or a tensor."""
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        try:
            return b"".join(map(self._decoder.__getitem__, ids))
        except (KeyError, TypeError):  # find the bad id and name it
            return b"".join([self.token_bytes(i) for i in ids])

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Text of ``ids``; bytes that are not valid UTF-8 follow Python's ``errors=``."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ------------------------------------------------------------------ training
    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        *,
        pattern: str = "gpt2",
        special_tokens: Collection[str] = (ENDOFTEXT,),
        min_frequency: int = 2,
    ) -> BPETokenizer:
        """Learn merges on ``text`` until ``vocab_size`` tokens (256 bytes + merges + specials),
        or until no pair occurs ``min_frequency`` times. Special-token strings in the text are
        cut out first, so they are never merged.

        Raises:
            ConfigError: vocab_size below 256 + the special tokens, min_frequency < 1.
            DataError: empty text.
        """
        specials = list(dict.fromkeys(special_tokens))
        if not isinstance(vocab_size, int) or vocab_size < 256 + len(specials):
            raise ConfigError(
                f"byte BPE vocab_size must be an int >= 256 + {len(specials)} special token(s) "
                f"= {256 + len(specials)}, got {vocab_size!r}"
            )
        if min_frequency < 1:
            raise ConfigError(f"min_frequency must be >= 1, got {min_frequency}")
        if not text:
            raise DataError("cannot train a BPE tokenizer on an empty text")
        split = splitter(pattern)
        counts: Counter[str] = Counter()
        for piece, special in split_special(text, frozenset(specials)):
            if not special:
                counts.update(split(piece))
        vocab = [bytes([b]) for b in range(256)]
        learn_merges(counts, vocab, vocab_size - len(specials), min_frequency)
        ranks = {token: i for i, token in enumerate(vocab)}
        return cls(ranks, {s: len(vocab) + k for k, s in enumerate(specials)}, pattern)

    # ------------------------------------------------------------------ save / load / export
    def save(self, path: str | Path) -> Path:
        """Write our JSON: type, pattern, the merged tokens' bytes (base64) in rank order."""
        tokens = [self._decoder[i] for i in sorted(self._ranks.values()) if i >= 256]
        return atomic_write_json(
            path,
            {
                "type": self.kind,
                "version": 1,
                "pattern": self.pattern,
                "byte_tokens": "identity" if self._identity_bytes() else self._byte_order(),
                "tokens": [base64.b64encode(t).decode("ascii") for t in tokens],
                "special_tokens": self.special_tokens,
            },
        )

    def _identity_bytes(self) -> bool:
        return all(self._ranks[bytes([b])] == b for b in range(256))

    def _byte_order(self) -> list[int]:
        return [self._ranks[bytes([b])] for b in range(256)]

    @classmethod
    def from_dict(cls, obj: Mapping, source: str = "tokenizer") -> BPETokenizer:
        """Rebuild from the dict ``save`` wrote; ``source`` names it in errors (the file).

        Raises:
            DataError: a missing or mistyped field (named with its path), an unknown pattern,
            repeated tokens or ids.
        """
        version = field(obj, "version", int, source, default=1)
        if version != 1:
            raise DataError(f"{source}: field 'version' is {version}; this reti reads version 1")
        order = field(obj, "byte_tokens", (str, list), source)
        if order == "identity":
            order = range(256)
        elif isinstance(order, str) or len(order) != 256:
            raise DataError(
                f"{source}: field 'byte_tokens' must be \"identity\" or a list of 256 ids, "
                f"got {str(order)[:40]!r}"
            )
        ranks = {bytes([b]): check(order[b], int, source, f"byte_tokens[{b}]") for b in range(256)}
        used = set(ranks.values())
        rank = 0
        for i, text in enumerate(field(obj, "tokens", list, source)):
            while rank in used:
                rank += 1
            check(text, str, source, f"tokens[{i}]")
            try:
                token = base64.b64decode(text, validate=True)
            except ValueError:
                raise DataError(
                    f"{source}: field 'tokens[{i}]' is not base64: {text[:40]!r}"
                ) from None
            if token in ranks:
                raise DataError(f"{source}: field 'tokens[{i}]' repeats the token {token!r}")
            ranks[token] = rank
            used.add(rank)
        specials = field(obj, "special_tokens", dict, source, default={})
        for name, i in specials.items():
            check(i, int, source, f"special_tokens[{name}]")
        pattern = field(obj, "pattern", str, source, default="gpt2")
        if pattern not in PATTERNS:
            raise DataError(
                f"{source}: field 'pattern' must be one of {sorted(PATTERNS)}, got {pattern!r}"
            )
        try:
            return cls(ranks, specials, pattern)
        except ConfigError as exc:
            raise DataError(f"{source}: {exc}") from None

    def save_tiktoken(self, path: str | Path) -> Path:
        """The ranks in tiktoken's file format: one ``base64(bytes) rank`` per line."""
        ordered = sorted(self._ranks.items(), key=_rank)
        lines = [f"{base64.b64encode(t).decode()} {r}" for t, r in ordered]
        return atomic_write_text(path, "\n".join(lines) + "\n")

    def save_hf(self, path: str | Path) -> Path:
        """A Hugging Face ``tokenizer.json`` (BPE model, byte-level); see ``hf_document``."""
        document = hf_document(self._ranks, PATTERNS[self.pattern], self.special_tokens)
        return atomic_write_json(path, document)


def _rank(item: tuple[bytes, int]) -> int:
    return item[1]
