"""BPE training time: reti's byte-level BPE vs Hugging Face `tokenizers`' BpeTrainer.

What: train a byte-level BPE on the 42 modern-spelling Shakespeare works (5.06 MB, the built-in
``shakespeare`` data set) to a vocabulary of 4096 (256 bytes + 3839 merges + <|endoftext|>), both
with GPT-2's pre-tokenization pattern.
How: reti and HF alternate, ``--rounds`` times each in one process; the best (least disturbed)
time of each is reported, plus each vocabulary's compression (UTF-8 bytes per token on the
text) as a check that both learned a comparable vocabulary. reti runs in one Python thread; HF
trains with its own defaults (Rust, may use every core: the number is printed).
``--quick``: the first 1 MB and vocabulary 1024, one round.

    python bench/bpe_train.py [--quick] [--rounds 2]

Ends with one JSON line: {"bench": "bpe_train", "reti": s, "peer": s, "unit": "s", "ratio": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from reti.data.text import shakespeare_works
from reti.tokenize import BPETokenizer


def train_reti(text: str, vocab: int) -> tuple[float, BPETokenizer]:
    start = time.perf_counter()
    tok = BPETokenizer.train(text, vocab)
    return time.perf_counter() - start, tok


def train_hf(works: list[str], vocab: int) -> tuple[float, Tokenizer]:
    start = time.perf_counter()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(works, trainer=trainer)
    return time.perf_counter() - start, tok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    works = list(shakespeare_works().values())
    vocab, rounds = (1024, 1) if args.quick else (4096, args.rounds)
    if args.quick:
        works = ["".join(works)[:1_000_000]]
    text = "".join(works)
    nbytes = len(text.encode("utf-8"))
    print(f"corpus {nbytes / 1e6:.2f} MB, vocab {vocab}, {rounds} round(s), cpus {os.cpu_count()}")
    print(f"{'round':>5}  {'reti s':>8}  {'HF s':>8}")
    reti_times, hf_times = [], []
    for r in range(rounds):
        t_reti, reti_tok = train_reti(text, vocab)
        t_hf, hf_tok = train_hf(works, vocab)
        reti_times.append(t_reti)
        hf_times.append(t_hf)
        print(f"{r:>5}  {t_reti:>8.2f}  {t_hf:>8.2f}")
    sample = text[:500_000]
    reti_bpt = len(sample.encode()) / len(reti_tok.encode_ordinary(sample))
    hf_bpt = len(sample.encode()) / len(hf_tok.encode(sample).ids)
    print(f"vocab: reti {reti_tok.vocab_size}, HF {hf_tok.get_vocab_size()}")
    print(f"bytes/token on 500 kB: reti {reti_bpt:.3f}, HF {hf_bpt:.3f}")
    best_reti, best_hf = min(reti_times), min(hf_times)
    print(f"best: reti {best_reti:.2f} s, HF {best_hf:.2f} s, reti/HF {best_reti / best_hf:.2f}")
    result = {
        "bench": "bpe_train",
        "reti": round(best_reti, 3),
        "peer": round(best_hf, 3),
        "unit": "s",
        "ratio": round(best_reti / best_hf, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
