"""Length extrapolation: train at context 64, evaluate at 64 / 128 / 256, for each position scheme.

What: four char-level GPTs on Shakespeare (this repository's .py files if the data set cannot be
had), identical but for ``pos``: alibi, relative (T5 buckets), sinusoidal, learned. 2 layers,
4 heads, width 64, trained at context 64 on the same seeded batches (batch 16, AdamW 3e-3).
Each is then evaluated on the same first 4096 validation characters, cut into non-overlapping
windows of 64, 128 and 256: mean next-character loss in nats. Learned positions have no row
for position 64 and beyond: that cell reads "n/a" with the reason (no crash).

How: the models train one after the other (not a speed bench; the seconds are shown only for
orientation). Threads: 1 by default (``--threads 0``: torch's default). Measured on a machine
shared with other jobs; the losses do not depend on the load, the seconds do.

    python bench/extrapolation.py [--quick] [--iters 300]

Ends with one JSON line: {"bench": "extrapolation", "reti": alibi loss at 256, "peer":
sinusoidal loss at 256, "unit": "nats/char", "ratio": peer / reti, "results": {...}}.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F
from lm_train import load_corpus  # the same corpus (and fallback) as the LM bench

from reti.errors import ConfigError
from reti.models.gpt import GPT, GPTConfig

SCHEMES = ("alibi", "relative", "sinusoidal", "learned")
TRAIN_CTX, LENGTHS, BATCH, EVAL_CHARS = 64, (64, 128, 256), 16, 4096


def train(pos: str, vocab: int, ids: torch.Tensor, iters: int) -> tuple[GPT, float]:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab, TRAIN_CTX, n_layer=2, n_head=4, d_model=64, pos=pos))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)  # the same batches for every scheme
    start = time.perf_counter()
    for _ in range(iters):
        s = torch.randint(0, len(ids) - TRAIN_CTX - 1, (BATCH,), generator=gen)
        x = torch.stack([ids[i : i + TRAIN_CTX] for i in s])
        y = torch.stack([ids[i + 1 : i + TRAIN_CTX + 1] for i in s])
        _, loss = model(x, targets=y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval(), time.perf_counter() - start


@torch.no_grad()
def evaluate(model: GPT, vids: torch.Tensor, length: int) -> float:
    """Mean loss over non-overlapping windows of ``length`` in the first EVAL_CHARS tokens."""
    n = EVAL_CHARS // length
    x = vids[: n * length].view(n, length)
    y = vids[1 : n * length + 1].view(n, length)
    return F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=150)
    parser.add_argument("--threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--quick", action="store_true", help="the default size (150 iters)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train_text, val_text, source = load_corpus()
    chars = sorted(set(train_text + val_text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in train_text], dtype=torch.long)
    vids = torch.tensor([stoi[c] for c in val_text[: EVAL_CHARS + 1]], dtype=torch.long)
    print(f"data: {source}; trained at context {TRAIN_CTX} for {args.iters} iterations")
    header = "".join(f"{f'ctx {n}':>12}" for n in LENGTHS)
    print(f"{'pos':>11}{header}{'train s':>10}")
    results: dict[str, dict[str, float | str]] = {}
    for pos in SCHEMES:
        model, seconds = train(pos, len(chars), ids, args.iters)
        row: dict[str, float | str] = {}
        for length in LENGTHS:
            try:
                row[str(length)] = round(evaluate(model, vids, length), 4)
            except ConfigError:
                row[str(length)] = f"n/a: learned positions end at {TRAIN_CTX - 1}"
        results[pos] = row
        cells = "".join(
            f"{v:>12.3f}" if isinstance(v, float) else f"{'n/a':>12}" for v in row.values()
        )
        print(f"{pos:>11}{cells}{seconds:>10.1f}")
    print(f"\nn/a: learned positions have no embedding past position {TRAIN_CTX - 1}; "
          "they cannot extrapolate.")  # fmt: skip
    reti, peer = results["alibi"]["256"], results["sinusoidal"]["256"]
    result = {
        "bench": "extrapolation",
        "reti": reti,
        "peer": peer,
        "unit": "nats/char at context 256 (alibi vs sinusoidal)",
        "ratio": round(peer / reti, 3),
        "results": results,
        "iters": args.iters,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
