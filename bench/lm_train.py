"""LM training throughput: reti's GPT against a nanoGPT-equivalent model and loop, at three sizes.

What: a character-level language model on Shakespeare (falls back to this repository's own
text files when the data set cannot be fetched), fp32 on the CPU, the same recipe on every side:
AdamW betas (0.9, 0.99), weight decay 0.1 on the matrices, gradient clipping at 1.0, 100 warm-up
iterations then a cosine to lr / 10, batches at random offsets (one seeded generator, the same
batches for every side), ``loss.item()`` each iteration. The sides:

* ``nanogpt`` (the peer): bench/_nanogpt.py, nanoGPT's design written here (fused Q/K/V linear
  without bias, SDPA ``is_causal``, GELU MLP, LayerNorm, tied embedding), nanoGPT's optimizer
  groups and ``torch.optim.AdamW`` (not fused: nanoGPT fuses on CUDA only), started from the
  same weights as reti's model (so the validation losses compare like for like).
* ``reti``: ``reti.models.gpt.GPT`` (learned positions, no biases, tied) with what
  ``reti.train.fit`` builds: ``build_optimizer`` (fused AdamW; the tied embedding not decayed).
* ``reti+bf16``: the same in bf16 autocast (``TrainConfig(precision="bf16")``): the matmuls
  in bfloat16 (oneDNN; 4.3x the fp32 matmul FLOP/s on this AMD EPYC with AVX512-BF16, 1 thread),
  the weights, gradients and AdamW state in fp32. Its MFU is over the bf16 matmul peak.
* ``reti+compile`` (``--compile``): reti fp32, the model through ``torch.compile`` (inductor's
  C++ kernels); the compile time is reported apart and kept out of tokens/s.
* ``perhead`` (size S only, ``--perhead``): the course's "Let's build GPT" model (a module per
  head, ``masked_fill``, untied head) with the same recipe, the weakest peer, for reference.

Sizes (``--sizes``): S = 4 layers, 4 heads, width 128, context 64, batch 12 (nanoGPT's CPU
recipe); M = 4 layers, 4 heads, width 256, context 128, batch 8; L = 6 layers, 6 heads, width
384, context 256, batch 4 (nanoGPT's shakespeare-char model, a smaller batch).

How: per size, first a forward + backward of each side outside the timing (first-call and
compile costs; gradients dropped, no optimizer step), then the sides train in turn in chunks of
``--chunk`` iterations (nanogpt, reti, ..., nanogpt, ...) until each has done ``--iters``.
tokens/s: tokens over the process CPU seconds of a side's chunks (``time.process_time``, which
with one thread leaves out the waits for a core held by other jobs; wall-clock figures too;
with more threads wall seconds, as CPU seconds would add the threads up);
the ratio's range is over the chunks. MFU: (6 N + 12 L C T) FLOPs per token (N: the matmul
weights, PaLM appendix B, as nanoGPT) times tokens/s over the peak of a 1024 x 1024 fp32 matmul
measured in the same run and threads. Validation loss: ``--val-windows`` fixed windows (default
256) in fp32 on every side, after the last chunk.

    python bench/lm_train.py                          # quick: size S, 60 iterations
    python bench/lm_train.py --sizes S,M,L --iters 20 --compile
    python bench/lm_train.py --iters 2000 --chunk 100 # the loss at equal iterations

Ends with one JSON line: {"bench": "lm_train", "reti": <tokens/s at S>, "peer": <nanogpt at S>,
"unit": "tokens/s", "ratio": ..., "sizes": {...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _nanogpt import NanoGPT, nano_lr, nano_optimizer, reti_twin
from torch import nn

from reti.train.optim import build_optimizer

SIZES = {  # name: (layers, heads, width, context, batch)
    "S": (4, 4, 128, 64, 12),
    "M": (4, 4, 256, 128, 8),
    "L": (6, 6, 384, 256, 4),
}
LR = 1e-3


# ------------------------------------------------------------------ the per-head student model
class Head(nn.Module):
    def __init__(self, width, head_size, ctx):
        super().__init__()
        self.key = nn.Linear(width, head_size)
        self.query = nn.Linear(width, head_size)
        self.value = nn.Linear(width, head_size)
        self.register_buffer("tril", torch.tril(torch.ones(ctx, ctx)))

    def forward(self, x):
        T = x.shape[1]
        k, q, v = self.key(x), self.query(x), self.value(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
        scores = scores.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        return F.softmax(scores, dim=-1) @ v


class PerHeadBlock(nn.Module):
    def __init__(self, width, n_head, ctx):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.heads = nn.ModuleList(Head(width, width // n_head, ctx) for _ in range(n_head))
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.proj(torch.cat([head(h) for head in self.heads], dim=-1))
        return x + self.mlp(self.ln2(x))


class PerHeadGPT(nn.Module):
    def __init__(self, vocab, n_layer, n_head, width, ctx):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(ctx, width)
        self.blocks = nn.Sequential(*[PerHeadBlock(width, n_head, ctx) for _ in range(n_layer)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        logits = self.head(self.ln(self.blocks(x)))
        return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten())


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


def matmul_peak(seconds: float = 1.5, n: int = 1024, dtype=torch.float32) -> float:
    """FLOP/s of repeated n x n matmuls (the best of three timed runs) on the clock the sides
    use: CPU seconds with one thread, wall seconds with more (CPU seconds would add the threads
    up and give a one-thread peak, against which a 2-thread side showed an MFU above 100%)."""
    clock = time.process_time if torch.get_num_threads() == 1 else time.perf_counter
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    best = 0.0
    for _ in range(3):
        reps, start = 0, clock()
        while clock() - start < seconds / 3:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / (clock() - start))
    return best


def windows(ids: torch.Tensor, ctx: int, starts: torch.Tensor):
    x = torch.stack([ids[s : s + ctx] for s in starts])
    return x, torch.stack([ids[s + 1 : s + ctx + 1] for s in starts])


class Side:
    """One contestant: a model (returning (logits, loss)), its optimizer, its own clock."""

    def __init__(self, name, model, opt, max_iters, flops_per_token, bf16=False):
        self.name, self.model, self.opt, self.max_iters = name, model, opt, max_iters
        self.flops_per_token, self.bf16 = flops_per_token, bf16
        self.it, self.cpu, self.wall, self.chunks = 0, 0.0, 0.0, []
        self.compile_s = 0.0

    def warm_up(self, x, y):
        start = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
            loss = self.model(x, y)[1]
        loss.backward()
        self.opt.zero_grad(set_to_none=True)
        self.compile_s = time.perf_counter() - start

    def train(self, batches) -> float:
        start, wall = time.process_time(), time.perf_counter()
        for x, y in batches:
            for group in self.opt.param_groups:
                group["lr"] = nano_lr(self.it, LR, self.max_iters)
            with torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
                _, loss = self.model(x, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
            last = loss.item()
            self.it += 1
        cpu, wall = time.process_time() - start, time.perf_counter() - wall
        self.cpu, self.wall = self.cpu + cpu, self.wall + wall
        # one thread: CPU seconds (waits for a busy core left out); more: wall seconds
        self.chunks.append(cpu if torch.get_num_threads() == 1 else wall)
        return last

    @torch.no_grad()
    def val_loss(self, x, y) -> float:
        """Mean cross-entropy on the validation windows, in fp32 on every side (the weights
        are fp32 on every side; bf16 here would add its rounding to the bf16 side's score)."""
        self.model.eval()
        losses = [self.model(xb, yb)[1].item() for xb, yb in zip(x.split(64), y.split(64))]
        self.model.train()
        return sum(losses) / len(losses)


class RetiAsPair(nn.Module):
    """reti's GPT returns (logits, loss) with targets already; this only names the contract."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, idx, targets):
        return self.gpt(idx, targets)


def reti_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """What ``reti.train.fit`` builds (fused AdamW, its groups), with the peer's betas."""
    opt = build_optimizer(model, "adamw", lr=LR, weight_decay=0.1)
    for group in opt.param_groups:
        group["betas"] = (0.9, 0.99)
    return opt


def build_sides(name, vocab, args, size):
    n_layer, n_head, width, ctx, _ = size
    torch.manual_seed(0)
    nano = NanoGPT(vocab, ctx, n_layer, n_head, width)
    fpt = reti_twin(nano, vocab, ctx, n_layer, n_head).flops_per_sample(ctx) / ctx
    sides = [Side("nanogpt", nano, nano_optimizer(nano, LR), args.iters, fpt)]
    variants = [("reti", False, False), ("reti+bf16", True, False)]
    if args.compile:
        variants += [("reti+compile", False, True), ("reti+bf16+compile", True, True)]
    for label, bf16, compiled in variants:
        gpt = reti_twin(nano, vocab, ctx, n_layer, n_head)
        model = torch.compile(RetiAsPair(gpt)) if compiled else RetiAsPair(gpt)
        sides.append(Side(label, model, reti_optimizer(gpt), args.iters, fpt, bf16))
    if args.perhead and name == "S":
        torch.manual_seed(0)
        plain = PerHeadGPT(vocab, n_layer, n_head, width, ctx)
        sides.append(Side("perhead", plain, nano_optimizer(plain, LR), args.iters, fpt))
    return sides


def run_size(name, size, ids, vids, vocab, args, peaks) -> dict:
    ctx, batch = size[3], size[4]
    gen = torch.Generator().manual_seed(0)
    val = windows(
        vids, ctx, torch.randint(0, len(vids) - ctx - 1, (args.val_windows,), generator=gen)
    )
    sides = build_sides(name, vocab, args, size)
    for side in sides:
        side.warm_up(val[0][:batch], val[1][:batch])
    while sides[0].it < args.iters:
        n = min(args.chunk, args.iters - sides[0].it)
        starts = torch.randint(0, len(ids) - ctx - 1, (n, batch), generator=gen)
        batches = [windows(ids, ctx, s) for s in starts]
        for side in sides:
            loss = side.train(batches)
            tps = n * batch * ctx / side.chunks[-1]
            print(f"{name:>4} {side.it:>6} {side.name:>13} {tps:>9.0f} {loss:>7.3f}")
    peer = sides[0]
    out = {"layers": size[0], "width": size[2], "ctx": ctx, "batch": batch}
    for side in sides:
        tokens = side.it * batch * ctx
        tps = tokens / sum(side.chunks)
        per_chunk = [p / s for s, p in zip(side.chunks, peer.chunks, strict=True)]
        mfu = side.flops_per_token * tps / peaks[side.bf16]
        if mfu > 1.0:  # impossible: the peak was undercut (a busy moment); report no MFU
            print(f"warning: {side.name} MFU {mfu:.2f} > 1, left out (peak measured too low)")
            mfu = None
        out[side.name] = {
            "tokens_s": round(tps),
            "wall_tokens_s": round(tokens / side.wall),
            "mfu": None if mfu is None else round(mfu, 4),
            "ratio": round(sum(peer.chunks) / sum(side.chunks), 3),
            "ratio_min": round(min(per_chunk), 3),
            "ratio_max": round(max(per_chunk), 3),
            "val_loss": round(side.val_loss(*val), 4),
        }
        if "compile" in side.name:
            out[side.name]["compile_s"] = round(side.compile_s, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S", help="comma-separated: S, M, L")
    parser.add_argument("--iters", type=int, default=60, help="iterations per side and size")
    parser.add_argument("--chunk", type=int, default=10, help="iterations per turn")
    parser.add_argument("--threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--val-windows", type=int, default=256, help="validation windows")
    parser.add_argument("--compile", action="store_true", help="add reti + torch.compile")
    parser.add_argument("--perhead", action="store_true", help="add the per-head model (S)")
    parser.add_argument("--quick", action="store_true", help="the default size (S, 60 iters)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train_text, val_text, source = load_corpus()
    chars = sorted(set(train_text + val_text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in train_text], dtype=torch.long)
    vids = torch.tensor([stoi[c] for c in val_text], dtype=torch.long)
    peaks = {False: matmul_peak(), True: matmul_peak(dtype=torch.bfloat16)}
    print(f"data: {source}, vocab {len(chars)}; threads {torch.get_num_threads()}; matmul peak "
          f"fp32 {peaks[False] / 1e9:.1f}, bf16 {peaks[True] / 1e9:.1f} GFLOP/s")  # fmt: skip
    print(f"{'size':>4} {'iter':>6} {'side':>13} {'tokens/s':>9} {'loss':>7}")
    results = {}
    for name in args.sizes.split(","):
        results[name] = run_size(name, SIZES[name], ids, vids, len(chars), args, peaks)
    print()
    for name, res in results.items():
        for side, r in res.items():
            if isinstance(r, dict):
                extra = f", compile {r['compile_s']} s" if "compile_s" in r else ""
                mfu = "n/a" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
                print(f"{name} {side:>13}: {r['tokens_s']:>7} tokens/s, MFU {mfu},"
                      f" {r['ratio']:.2f}x nanogpt ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}),"
                      f" val loss {r['val_loss']:.3f}{extra}")  # fmt: skip
    first = results[args.sizes.split(",")[0]]
    best = max((k for k, v in first.items() if isinstance(v, dict) and k != "nanogpt"),
               key=lambda k: first[k]["tokens_s"])  # fmt: skip
    result = {
        "bench": "lm_train",
        "reti": first["reti"]["tokens_s"],
        "peer": first["nanogpt"]["tokens_s"],
        "unit": "tokens/s",
        "ratio": first["reti"]["ratio"],
        "best": best,
        "best_ratio": first[best]["ratio"],
        "sizes": results,
        "iters": args.iters,
        "peak_gflops": round(peaks[False] / 1e9, 1),
        "peak_gflops_bf16": round(peaks[True] / 1e9, 1),
        "timing": "process cpu seconds" if torch.get_num_threads() == 1 else "wall seconds",
        "threads": torch.get_num_threads(),
        "data": source.split(" (")[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
