"""A tokenizer from a spec string: parse it, build (train or load) it, encode a corpus with it.

``"char"``, ``"word"``, ``"bpe:4096"`` (``"bpe"`` = bpe:4096) are trained on the text; ``"gpt2"``
and a path to a saved ``.json`` are loaded. The GPT-2 files come from the caller
(``gpt2_files``: a folder or a function returning it), so this module downloads nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from reti.errors import ConfigError, ParseError
from reti.tokenize import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    load_gpt2,
    load_tokenizer,
)

SPEC_KINDS = ("char", "word", "bpe", "gpt2")
DEFAULT_BPE_VOCAB = 4096
GPT2Files = str | Path | Callable[[], Path] | None


def parse_tokenizer(spec: str) -> tuple[str, int | None]:
    """``"char"``, ``"word"``, ``"gpt2"``, ``"bpe:4096"`` (``"bpe"`` = bpe:4096) or a path to a
    saved tokenizer ``.json`` -> (kind or path, vocab size or None).

    Raises:
        ParseError: an unknown kind or a bad vocabulary size, with its column.
    """
    kind, _, size = spec.partition(":")
    if spec.endswith(".json"):
        return spec, None
    if kind not in SPEC_KINDS:
        raise ParseError(
            f"tokenizer must be one of {', '.join(SPEC_KINDS)} (bpe:N) or a .json", spec, 0
        )
    if not size:
        return kind, (DEFAULT_BPE_VOCAB if kind == "bpe" else None)
    if kind != "bpe" or not size.isdigit() or len(size) > 9 or int(size) < 257:
        raise ParseError("only bpe takes a vocabulary size, an integer >= 257", spec, len(kind) + 1)
    return kind, int(size)


def build_tokenizer(spec: str, text: str, gpt2_files: GPT2Files = None) -> Tokenizer:
    """Train (char, word, bpe:N) on ``text``, or load (gpt2, a saved .json)."""
    kind, size = parse_tokenizer(spec)
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "word":
        return WordTokenizer.train(text, min_frequency=2)
    if kind == "bpe":
        return BPETokenizer.train(text, size)
    if kind == "gpt2":
        files = gpt2_files() if callable(gpt2_files) else gpt2_files
        if files is None:
            raise ConfigError("the gpt2 tokenizer needs its files: pass gpt2_files=")
        return load_gpt2(files)
    return load_tokenizer(kind, gpt2_files=gpt2_files)


def encode_text(tok: Tokenizer, text: str) -> torch.Tensor:
    """Token ids of a corpus; special-token strings in it are read as ordinary text."""
    return torch.tensor(
        tok.encode(text, allowed_special=(), disallowed_special=()), dtype=torch.long
    )
