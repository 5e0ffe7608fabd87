"""LM training throughput: reti's GPT vs a plain course-style PyTorch GPT of the same size.

What: a character-level language model on Shakespeare (falls back to this repository's own
text files when the data set cannot be fetched): 4 layers, 4 heads, width 128, context 64,
batch 12, learned positions, AdamW lr 1e-3 (reti: the fused AdamW that ``reti.train.fit``
builds; plain: ``torch.optim.AdamW(model.parameters())``), fp32 on the CPU. Both models have
the same architecture and parameter count; they differ in how they compute it:

* reti: ``reti.models.gpt.GPT`` - one fused Q/K/V projection, ``F.scaled_dot_product_attention``
  with its causal kernel, tied output projection.
* plain: what a student of the course writes (the "Let's build GPT" style): a ``Head`` module per
  head with its own key/query/value ``nn.Linear``, scores ``q @ k.T / sqrt(hs)``, ``masked_fill``
  of the upper triangle with -inf, ``softmax``, ``@ v``; heads concatenated and projected;
  ``nn.LayerNorm``; a separate (untied) output projection.

How: after 3 warm-up steps on a copy of each model (first-call costs stay out), the same
batches (one seeded generator) go to both; the models train alternately in
chunks of ``--chunk`` iterations (reti, plain, reti, plain, ...) until each has done ``--iters``;
tokens/s is the total tokens over the total wall time of each model's chunks (validation is
outside the timing). Every ``--eval-every`` iterations both are evaluated on 32 validation
windows; the curves go to ``lm_train.csv`` / ``lm_train.png`` in ``--out``. MFU: reti's
``flops_per_sample`` (6 N + 12 L C T per token) times samples/s, over the peak measured with a
1024x1024 fp32 matmul loop in the same run. Threads: 1 by default (with the 2 cores shared by
other jobs, one thread was several times faster than two for both models); ``--threads 0``
keeps torch's default.

Numbers in docs/text.md were measured while seven other engineers used the same 2 cores:
noisy, rerun on a quiet machine.

    python bench/lm_train.py                 # quick: 60 iterations per model
    python bench/lm_train.py --iters 2000    # the full validation-loss curve

Ends with one JSON line: {"bench": "lm_train", "reti": ..., "peer": ..., "unit": "tokens/s", ...}.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from reti.models.gpt import GPT, GPTConfig
from reti.train.optim import build_optimizer

N_LAYER, N_HEAD, WIDTH, CTX, BATCH = 4, 4, 128, 64, 12


# ------------------------------------------------------------------ the plain student model
class Head(nn.Module):
    def __init__(self, width, head_size):
        super().__init__()
        self.key = nn.Linear(width, head_size)
        self.query = nn.Linear(width, head_size)
        self.value = nn.Linear(width, head_size)
        self.register_buffer("tril", torch.tril(torch.ones(CTX, CTX)))

    def forward(self, x):
        T = x.shape[1]
        k, q, v = self.key(x), self.query(x), self.value(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
        scores = scores.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        return F.softmax(scores, dim=-1) @ v


class MultiHead(nn.Module):
    def __init__(self, width, n_head):
        super().__init__()
        self.heads = nn.ModuleList(Head(width, width // n_head) for _ in range(n_head))
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        return self.proj(torch.cat([h(x) for h in self.heads], dim=-1))


class PlainBlock(nn.Module):
    def __init__(self, width, n_head):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = MultiHead(width, n_head)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class PlainGPT(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, WIDTH)
        self.pos = nn.Embedding(CTX, WIDTH)
        self.blocks = nn.Sequential(*[PlainBlock(WIDTH, N_HEAD) for _ in range(N_LAYER)])
        self.ln = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, vocab, bias=False)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln(self.blocks(x)))


# ------------------------------------------------------------------ data and measurement
def load_corpus() -> tuple[str, str, str]:
    try:
        from reti.data.text import load_text

        data = load_text("shakespeare")
        return data.train, data.val, "shakespeare"
    except Exception as exc:  # noqa: BLE001 - any failure: fall back to local text
        root = Path(__file__).resolve().parents[1]
        text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py")))
        cut = int(len(text) * 0.9)
        return text[:cut], text[cut:], f"local .py files ({exc.__class__.__name__})"


def matmul_peak(seconds: float = 2.0, n: int = 1024) -> float:
    """FLOP/s of repeated n x n fp32 matmuls (the best of a few timed runs)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = 0.0
    for _ in range(3):
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


def step(model, opt, x, y):
    logits = model(x)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def val_loss(model, val_x, val_y):
    model.eval()
    loss = F.cross_entropy(model(val_x).flatten(0, 1), val_y.flatten()).item()
    model.train()
    return loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=60, help="iterations per model")
    parser.add_argument("--chunk", type=int, default=10, help="iterations per turn")
    parser.add_argument("--eval-every", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--quick", action="store_true", help="the default size (60 iters)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train_text, val_text, source = load_corpus()
    chars = sorted(set(train_text + val_text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in train_text], dtype=torch.long)
    vids = torch.tensor([stoi[c] for c in val_text], dtype=torch.long)
    gen = torch.Generator().manual_seed(0)
    starts = torch.randint(0, len(vids) - CTX - 1, (32,), generator=gen)
    val_x = torch.stack([vids[s : s + CTX] for s in starts])
    val_y = torch.stack([vids[s + 1 : s + CTX + 1] for s in starts])

    torch.manual_seed(0)
    reti_model = GPT(GPTConfig(len(chars), CTX, N_LAYER, N_HEAD, WIDTH, tie_weights=False))
    torch.manual_seed(0)
    plain = PlainGPT(len(chars))
    n_reti = sum(p.numel() for p in reti_model.parameters())
    n_plain = sum(p.numel() for p in plain.parameters())
    models = {"reti": reti_model, "plain": plain}
    make_opt = {  # reti: what reti.train.fit builds (fused AdamW); plain: the textbook call
        "reti": lambda m: build_optimizer(m, "adamw", lr=1e-3),
        "plain": lambda m: torch.optim.AdamW(m.parameters(), lr=1e-3),
    }
    opts = {k: make_opt[k](m) for k, m in models.items()}
    for name, model in models.items():  # warm-up on a copy: first-call costs stay out
        twin = copy.deepcopy(model)
        twin_opt = make_opt[name](twin)
        for _ in range(3):
            step(twin, twin_opt, val_x[:BATCH], val_y[:BATCH])
    seconds = {k: 0.0 for k in models}
    done = {k: 0 for k in models}
    curve = [(0, val_loss(reti_model, val_x, val_y), val_loss(plain, val_x, val_y))]
    print(f"data: {source}, vocab {len(chars)}; params reti {n_reti:,} plain {n_plain:,}")
    print(f"threads {torch.get_num_threads()}; {args.iters} iterations per model")
    print(f"{'iter':>6} {'model':>6} {'tokens/s':>10} {'loss':>8}")
    while min(done.values()) < args.iters:
        n = min(args.chunk, args.iters - done["reti"])
        batches = []
        for _ in range(n):
            s = torch.randint(0, len(ids) - CTX - 1, (BATCH,), generator=gen)
            batches.append(
                (
                    torch.stack([ids[i : i + CTX] for i in s]),
                    torch.stack([ids[i + 1 : i + CTX + 1] for i in s]),
                )
            )
        for name, model in models.items():
            start = time.perf_counter()
            for x, y in batches:
                loss = step(model, opts[name], x, y)
            elapsed = time.perf_counter() - start
            seconds[name] += elapsed
            done[name] += n
            print(f"{done[name]:>6} {name:>6} {n * BATCH * CTX / elapsed:>10.0f} {loss:>8.3f}")
        if done["reti"] % args.eval_every == 0 or done["reti"] >= args.iters:
            curve.append(
                (done["reti"], val_loss(reti_model, val_x, val_y), val_loss(plain, val_x, val_y))
            )

    tps = {k: done[k] * BATCH * CTX / seconds[k] for k in models}
    peak = matmul_peak()
    mfu = reti_model.flops_per_sample() * tps["reti"] / CTX / peak
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "lm_train.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["iter", "reti_val_loss", "plain_val_loss"])
        writer.writerows(curve)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([c[0] for c in curve], [c[1] for c in curve], label="reti GPT")
    ax.plot([c[0] for c in curve], [c[2] for c in curve], label="plain PyTorch", linestyle="--")
    ax.set(xlabel="iteration", ylabel="validation loss (nats/char)", title="char-level GPT")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "lm_train.png", dpi=110)
    last = curve[-1]
    print(
        f"\nvalidation loss after {args.iters} iterations: reti {last[1]:.3f}, plain {last[2]:.3f}"
    )
    print(f"tokens/s: reti {tps['reti']:.0f}, plain {tps['plain']:.0f}, "
          f"ratio {tps['reti'] / tps['plain']:.2f}x")  # fmt: skip
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; reti MFU {100 * mfu:.1f}%")
    print(f"curve: {out / 'lm_train.csv'}, {out / 'lm_train.png'}")
    result = {
        "bench": "lm_train",
        "reti": round(tps["reti"]),
        "peer": round(tps["plain"]),
        "unit": "tokens/s",
        "ratio": round(tps["reti"] / tps["plain"], 3),
        "mfu": round(mfu, 4),
        "peak_gflops": round(peak / 1e9, 1),
        "val_loss": round(curve[-1][1], 4),
        "peer_val_loss": round(curve[-1][2], 4),
        "iters": args.iters,
        "seconds": round(sum(seconds.values()), 1),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
