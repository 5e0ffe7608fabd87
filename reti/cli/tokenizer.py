"""`reti text tokenizer`: train, use and export tokenizers (wired in by ``reti/cli/text.py``).

reti text tokenizer train --data shakespeare --vocab 4096 --out runs/tok     (--kind char|word|bpe)
reti text tokenizer encode --tokenizer tok.json --text "To be"                (or --file F)
reti text tokenizer decode --tokenizer tok.json --ids 1,2,3
reti text tokenizer export --tokenizer tok.json --tiktoken tok.tiktoken --hf tokenizer.json
``--tokenizer gpt2`` is the real GPT-2 encoding (its files are fetched through ``reti data``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from reti.data.fetch import fetch
from reti.data.text import DECODE_ERRORS, load_text, read_text_file
from reti.errors import ConfigError, DataError, ParseError
from reti.io import ensure_dir
from reti.tokenize import KINDS, TOKENIZER_FILE, BPETokenizer, load_gpt2, load_tokenizer
from reti.tokenize.pretokenize import PATTERNS

DEFAULT_BPE_VOCAB = 4096


def open_tokenizer(name: str):
    """``"gpt2"`` -> GPT-2 (fetched files); anything else -> a saved tokenizer file."""
    if name.lower() == "gpt2":
        return load_gpt2(fetch("gpt2"))
    path = Path(name)
    if path.suffix != ".json" and not path.exists():
        raise ConfigError(f"--tokenizer must be 'gpt2' or a tokenizer .json file, got {name!r}")
    return load_tokenizer(path, gpt2_files=lambda: fetch("gpt2"))


def parse_ids(text: str) -> list[int]:
    """``"1,2, 3"`` -> [1, 2, 3]; a bad item is a ParseError pointing at it."""
    ids, position = [], 0
    for item in text.split(","):
        stripped = item.strip()
        if not (stripped.isascii() and stripped.isdigit()):
            offset = position + (len(item) - len(item.lstrip()))
            message = f"token ids must be non-negative integers, got {stripped!r}"
            raise ParseError(message, text, offset)
        ids.append(int(stripped))
        position += len(item) + 1
    return ids


def _allowed(value: str) -> str | set[str]:
    if value == "all":
        return "all"
    return set() if value in ("", "none") else set(value.split(","))


# ---------------------------------------------------------------------- handlers
def _train(args: argparse.Namespace) -> int:
    ensure_dir(args.out, create=False)  # a file in the way fails before any training
    data = load_text(args.data, val_fraction=args.val_fraction, errors=args.errors)
    specials = (
        args.special
        if args.special is not None
        else (["<|endoftext|>"] if args.kind == "bpe" else [])
    )
    start = time.perf_counter()
    if args.kind == "bpe":
        vocab = args.vocab if args.vocab is not None else DEFAULT_BPE_VOCAB
        tok = BPETokenizer.train(
            data.train, vocab, pattern=args.pattern, special_tokens=specials,
            min_frequency=args.min_frequency,
        )  # fmt: skip
    else:
        tok = KINDS[args.kind].train(
            data.train, args.vocab, min_frequency=args.min_frequency, special_tokens=specials
        )
    seconds = time.perf_counter() - start
    path = tok.save(ensure_dir(args.out) / TOKENIZER_FILE)
    print(f"{args.kind} tokenizer: vocab {tok.vocab_size}, {seconds:.1f} s -> {path}")
    for split, text in (("train", data.train), ("val", data.val)):
        if text:
            n = len(tok.encode_ordinary(text))
            per_token = len(text.encode("utf-8")) / max(n, 1)
            print(f"  {split}: {per_token:.2f} bytes/token ({n} tokens)")
    return 0


def _encode(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.file is None):
        raise ConfigError("encode needs exactly one of --text or --file")
    text = args.text if args.text is not None else read_text_file(args.file, args.errors)
    tok = open_tokenizer(args.tokenizer)
    ids = tok.encode(text, allowed_special=_allowed(args.allowed_special))
    print(",".join(map(str, ids)))
    return 0


def _decode(args: argparse.Namespace) -> int:
    ids = parse_ids(args.ids)
    tok = open_tokenizer(args.tokenizer)
    try:
        text = tok.decode(ids, errors=args.errors)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"ids decode to invalid UTF-8 at byte offset {exc.start} ({exc.reason}); "
            "use --errors replace"
        ) from None
    print(text, end="" if args.no_newline else "\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    tok = open_tokenizer(args.tokenizer)
    if not isinstance(tok, BPETokenizer):
        raise ConfigError(f"only BPE tokenizers export to tiktoken/HF files, got a {tok.kind}")
    if args.tiktoken is None and args.hf is None:
        raise ConfigError("export needs --tiktoken PATH and/or --hf PATH")
    for path, write in ((args.tiktoken, tok.save_tiktoken), (args.hf, tok.save_hf)):
        if path is not None:
            print(f"wrote {write(path)}")
    return 0


ERRORS_HELP = "What to do with bytes that are not UTF-8. Default: strict."


def register_under(text_sub: argparse._SubParsersAction) -> None:
    """Add ``tokenizer train|encode|decode|export`` under the ``reti text`` subparsers."""
    parser = text_sub.add_parser("tokenizer", help="train, use and export tokenizers")
    sub = parser.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True)

    train = sub.add_parser("train", help="train a char, word or byte-level BPE tokenizer")
    train.add_argument(
        "--data", default="shakespeare", help="The corpus: shakespeare, file:PATH or a path."
    )
    train.add_argument(
        "--kind", choices=sorted(KINDS), default="bpe", help="The kind of tokenizer. Default: bpe."
    )
    train.add_argument("--vocab", type=int, default=None, help="Vocabulary size (bpe: 4096).")
    train.add_argument(
        "--min-frequency",
        type=int,
        default=None,
        help="The rarest pair or word kept (bpe: 2, others: 1).",
    )
    train.add_argument(
        "--pattern",
        choices=sorted(PATTERNS),
        default="gpt2",
        help="The pre-tokenizer split pattern (BPE only). Default: gpt2.",
    )
    train.add_argument(
        "--special",
        action="append",
        default=None,
        metavar="TOKEN",
        help="A special token (repeatable).",
    )
    train.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="Fraction of the text held out. Default: 0.1.",
    )
    train.add_argument("--errors", choices=DECODE_ERRORS, default="strict", help=ERRORS_HELP)
    train.add_argument(
        "--out",
        default="runs/tokenizer",
        help=f"The folder for {TOKENIZER_FILE} (--tokenizer takes the folder or the file). "
        "Default: runs/tokenizer.",
    )
    train.set_defaults(func=_with_min_frequency)

    encode = sub.add_parser("encode", help="text -> comma-separated token ids")
    encode.add_argument("--tokenizer", required=True, help="A tokenizer .json file, or gpt2.")
    encode.add_argument("--text", default=None, help="The text to encode.")
    encode.add_argument("--file", default=None, help="A UTF-8 file to encode (instead of --text).")
    encode.add_argument(
        "--allowed-special",
        default="none",
        help="Special tokens read as such: none, all or a comma list.",
    )
    encode.add_argument("--errors", choices=DECODE_ERRORS, default="strict", help=ERRORS_HELP)
    encode.set_defaults(func=_encode)

    decode = sub.add_parser("decode", help="comma-separated token ids -> text")
    decode.add_argument("--tokenizer", required=True, help="A tokenizer .json file, or gpt2.")
    decode.add_argument("--ids", required=True, help="Comma-separated token ids, e.g. 15496,995.")
    decode.add_argument(
        "--errors",
        default="replace",
        choices=("replace", "strict", "ignore", "backslashreplace", "surrogateescape"),
        help="What to do with bytes that are not UTF-8. Default: replace.",
    )
    decode.add_argument(
        "--no-newline", action="store_true", help="Print no newline after the text."
    )
    decode.set_defaults(func=_decode)

    export = sub.add_parser("export", help="a BPE tokenizer as tiktoken ranks / HF tokenizer.json")
    export.add_argument("--tokenizer", required=True, help="A BPE tokenizer .json file.")
    export.add_argument("--tiktoken", default=None, help="Write the tiktoken ranks to this file.")
    export.add_argument(
        "--hf", default=None, help="Write a Hugging Face tokenizer.json to this file."
    )
    export.set_defaults(func=_export)


def _with_min_frequency(args: argparse.Namespace) -> int:
    if args.min_frequency is None:  # BPE merges need a pair seen twice; a table keeps all
        args.min_frequency = 2 if args.kind == "bpe" else 1
    return _train(args)
