"""reti.tokenize: char, word and byte-level BPE tokenizers, and the exact GPT-2 encoding.

Every tokenizer has ``encode(text, allowed_special=..., disallowed_special=...)``,
``decode(ids, errors=...)``, ``decode_bytes``, ``token_bytes``, ``vocab_size``,
``special_tokens``, ``save(path)`` and a ``train(text, vocab_size, ...)`` classmethod;
``load_tokenizer(path)`` reads any of them back from our JSON (dispatching on its "type").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reti.errors import DataError, DataNotFoundError
from reti.tokenize.bpe import ENDOFTEXT, BPETokenizer
from reti.tokenize.bpe_files import bytes_to_unicode, load_tiktoken_ranks
from reti.tokenize.gpt2 import GPT2_EOT, GPT2_VOCAB_SIZE, GPT2Tokenizer, load_gpt2
from reti.tokenize.jsonfile import field, read_json
from reti.tokenize.pretokenize import CL100K_PATTERN, GPT2_PATTERN, pretokenize
from reti.tokenize.simple import CharTokenizer, WordTokenizer

Tokenizer = CharTokenizer | WordTokenizer | BPETokenizer
KINDS = {"char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}


TOKENIZER_FILE = "tokenizer.json"  # the name in a folder (`reti text tokenizer train`, text runs)


def load_tokenizer(
    path: str | Path, gpt2_files: str | Path | Callable[[], Path] | None = None
) -> Tokenizer:
    """A tokenizer saved with ``save(path)`` (the file, or a folder holding ``tokenizer.json``).
    A file of type "gpt2" (or a folder holding GPT-2's
    files) needs those files: ``gpt2_files`` is their folder, or a function returning it
    (``lambda: reti.data.fetch("gpt2")``, called only when needed).

    Raises:
        DataNotFoundError: no such file. DataError: not JSON, or an unknown or malformed type.
    """
    path = Path(path)
    if path.is_dir() and (path / TOKENIZER_FILE).is_file():  # a folder `tokenizer train` wrote
        path = path / TOKENIZER_FILE
    elif path.is_dir():
        return load_gpt2(path)
    obj = read_json(path)
    source = f"tokenizer file {path}"
    kind = field(obj, "type", str, source)
    if kind == "gpt2":
        if gpt2_files is None:
            raise DataNotFoundError(f"{path} is the GPT-2 tokenizer: pass gpt2_files=")
        return load_gpt2(gpt2_files() if callable(gpt2_files) else gpt2_files)
    if kind not in KINDS:
        raise DataError(f"{source}: tokenizer type must be one of {[*KINDS, 'gpt2']}, got {kind!r}")
    return KINDS[kind].from_dict(obj, source)


__all__ = [
    "TOKENIZER_FILE",
    "CL100K_PATTERN",
    "ENDOFTEXT",
    "GPT2_EOT",
    "GPT2_PATTERN",
    "GPT2_VOCAB_SIZE",
    "KINDS",
    "BPETokenizer",
    "CharTokenizer",
    "GPT2Tokenizer",
    "Tokenizer",
    "WordTokenizer",
    "bytes_to_unicode",
    "load_gpt2",
    "load_tiktoken_ranks",
    "load_tokenizer",
    "pretokenize",
]
