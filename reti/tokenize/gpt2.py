"""The real GPT-2 tokenizer from OpenAI's files (notes: "GPT-2 utilizza BPE su byte"): byte-level
BPE with GPT-2's pre-tokenization pattern, 50,000 merges and ``<|endoftext|>`` = 50256.

Either file set works: ``gpt2.tiktoken`` (tiktoken's ranks) or ``encoder.json`` + ``vocab.bpe``
(OpenAI's original release). Ids equal tiktoken's ``gpt2`` encoding on any text (the tests check
it on thousands of real lines): both use token-rank merging, see ``reti.tokenize.bpe``.

This module reads files from a path; fetching them is the data layer's job
(``reti.data.fetch("gpt2")``), done by the caller (the CLI), since tokenize and data sit on one
level and never import each other.
"""

from __future__ import annotations

from pathlib import Path

from reti.errors import DataError, DataNotFoundError
from reti.io import atomic_write_json
from reti.tokenize.bpe import ENDOFTEXT, BPETokenizer
from reti.tokenize.bpe_files import bytes_to_unicode, load_tiktoken_ranks
from reti.tokenize.jsonfile import check, read_json

GPT2_VOCAB_SIZE = 50257
GPT2_EOT = 50256
_CHECK = ("Hello world", [15496, 995])  # the well-known ids, checked on every load


class GPT2Tokenizer(BPETokenizer):
    """GPT-2's byte-level BPE; build it with ``load_gpt2(path)``."""

    kind = "gpt2"

    def save(self, path: str | Path) -> Path:
        """GPT-2 is saved by name: ``{"type": "gpt2"}`` (the ranks come from the data cache)."""
        return atomic_write_json(path, {"type": self.kind, "version": 1})


def _ranks_from_encoder(encoder_path: Path, merges_path: Path) -> dict[bytes, int]:
    """encoder.json maps GPT-2's printable spelling of each token (``bytes_to_unicode``) to its id;
    the id is the rank. vocab.bpe is only checked for its size."""
    if not merges_path.is_file():
        raise DataNotFoundError(f"GPT-2 merges file not found: {merges_path}")
    to_byte = {char: byte for byte, char in bytes_to_unicode().items()}
    encoder = read_json(encoder_path, "GPT-2 encoder.json")
    source = f"GPT-2 encoder.json {encoder_path}"
    if not isinstance(encoder, dict):
        raise DataError(f"{source}: must be an object of token -> id")
    ranks = {}
    for spelled, i in encoder.items():
        if any(c not in to_byte for c in spelled):
            raise DataError(f"{source}: token {spelled[:40]!r} is not in GPT-2's byte spelling")
        ranks[bytes(to_byte[c] for c in spelled)] = check(i, int, source, spelled[:40])
    try:
        lines = merges_path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"GPT-2 merges file {merges_path}: not UTF-8 (byte {exc.start})") from None
    merges = [line for line in lines[1:] if line.strip()]
    if len(merges) != len(ranks) - 257:
        raise DataError(
            f"{merges_path}: {len(merges)} merges do not fit {len(ranks)} tokens in {encoder_path}"
        )
    ranks.pop(ENDOFTEXT.encode(), None)
    return ranks


def load_gpt2(path: str | Path) -> GPT2Tokenizer:
    """GPT-2 from ``gpt2.tiktoken``, or from a folder with it or with encoder.json + vocab.bpe.
    GPT-2 usually encodes whole corpora, so its batch-merge table (``pair_table``) is built here,
    as tiktoken builds its maps when an Encoding is made.

    Raises:
        DataNotFoundError: the path or the files in it are missing.
        DataError: malformed files, or files that do not encode "Hello world" as GPT-2 does.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "gpt2.tiktoken").is_file():
            ranks = load_tiktoken_ranks(path / "gpt2.tiktoken")
        elif (path / "encoder.json").is_file() and (path / "vocab.bpe").is_file():
            ranks = _ranks_from_encoder(path / "encoder.json", path / "vocab.bpe")
        else:
            raise DataNotFoundError(
                f"{path} has neither gpt2.tiktoken nor encoder.json + vocab.bpe"
            )
    elif path.name == "encoder.json":
        ranks = _ranks_from_encoder(path, path.with_name("vocab.bpe"))
    else:
        ranks = load_tiktoken_ranks(path)
    if len(ranks) != GPT2_VOCAB_SIZE - 1:
        raise DataError(f"{path}: {len(ranks)} ranks, GPT-2 has {GPT2_VOCAB_SIZE - 1}")
    tok = GPT2Tokenizer(ranks, {ENDOFTEXT: GPT2_EOT}, pattern="gpt2")
    text, expected = _CHECK
    if tok.encode(text) != expected:
        raise DataError(f"{path}: encodes {text!r} as {tok.encode(text)}, GPT-2 gives {expected}")
    tok.pair_table()  # built now (~0.04 s), not in the first large encode
    return tok
