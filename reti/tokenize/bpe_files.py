"""BPE file formats: tiktoken's ranks file, Hugging Face's ``tokenizer.json``, and GPT-2's
printable spelling of bytes (used by its encoder.json and by ``tokenizer.json``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

from reti.errors import DataError, DataNotFoundError


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte (used by encoder.json and HF tokenizer.json):
    printable Latin-1 bytes stand for themselves, the other 68 map to U+0100 onwards."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table, extra = {}, 0
    for byte in range(256):
        if byte in keep:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def load_tiktoken_ranks(path: str | Path) -> dict[bytes, int]:
    """Read a tiktoken ranks file (``base64(bytes) rank`` per line).

    Raises:
        DataNotFoundError: no such file. DataError: a malformed line (named by number).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"tiktoken ranks file not found: {path}")
    ranks = {}
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except ValueError:
            raise DataError(f"{path}: line {number} is not 'base64 rank': {line[:40]!r}") from None
    if not ranks:
        raise DataError(f"{path}: empty tiktoken ranks file")
    return ranks


def hf_document(ranks: Mapping[bytes, int], pattern: str, specials: Mapping[str, int]) -> dict:
    """A Hugging Face ``tokenizer.json`` document (BPE model, byte-level). Every split of a token
    into two tokens becomes a merge, ordered by the token's rank, so HF's pair-rank merging picks
    the same merges as reti's token-rank merging."""
    to_str = bytes_to_unicode()
    spell = {t: "".join(to_str[b] for b in t) for t in ranks}
    merges = []
    for token, _ in sorted(ranks.items(), key=_rank):
        for k in range(1, len(token)):
            left, right = token[:k], token[k:]
            if left in ranks and right in ranks:
                merges.append(f"{spell[left]} {spell[right]}")
    added = [
        {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for s, i in specials.items()
    ]  # fmt: skip
    split = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated",
             "invert": False}  # fmt: skip
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}  # fmt: skip
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, byte_level]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                    "use_regex": False},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {spell[t]: r for t, r in ranks.items()},
            "merges": merges,
        },
    }  # fmt: skip


def _rank(item: tuple[bytes, int]) -> int:
    return item[1]
