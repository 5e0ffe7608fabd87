"""Claims on attention and positions (notes: Masked Self-Attention, Positional Encoding):
the mask blocks the future, attention alone ignores order, each position scheme restores it,
and the sinusoidal table is the notes' formula."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding
from reti.claims.figures import claim_figure
from reti.i18n import text
from reti.layers import (
    ALiBi,
    CausalSelfAttention,
    LearnedPosition,
    RelativeBias,
    SinusoidalPosition,
    TransformerBlock,
)

TOL = 1e-5  # float32 rounding of the same sums in another order


@torch.no_grad()
def masking_run(budget: Budget, out: Path) -> Finding:
    """Softmax(QK^T/sqrt(d) - inf above the diagonal): future weights exactly 0, rows sum to 1."""
    torch.manual_seed(budget.seed)
    attn = CausalSelfAttention(32, 4).eval()
    x = torch.randn(3, 12, 32, generator=torch.Generator().manual_seed(budget.seed))
    _, w = attn(x, return_weights=True)  # (B, nh, T, T)
    future = torch.triu(torch.ones(12, 12, dtype=torch.bool), diagonal=1)
    future_max = w[..., future].abs().max().item()
    row_err = (w.sum(-1) - 1).abs().max().item()
    past_min = w[..., ~future].min().item()
    ok = future_max == 0.0 and row_err <= 1e-6 and past_min > 0

    def draw(ax):
        ax.imshow(w[0, 0].numpy(), cmap="viridis")
        ax.set_xlabel(text("claims.masking.xlabel", budget.lang), fontsize=8)
        ax.set_ylabel(text("claims.masking.ylabel", budget.lang), fontsize=8)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.masking.rule", budget.lang),
        [{"largest weight on a future token": future_max, "largest |row sum - 1|": row_err,
          "smallest weight on a past token": f"{past_min:.3g}"}],
        text("claims.masking.summary", budget.lang, future=future_max, row=f"{row_err:.2g}"),
        claim_figure(out / "masking.png", [draw], [], budget.lang),
        text("claims.masking.experiment", budget.lang),
    )  # fmt: skip


def _order_change(
    block: TransformerBlock, x: torch.Tensor, scheme: str, g, learned, relative
) -> float:
    """max |f(x[perm]) - f(x)[perm]|: 0 (up to rounding) when f cannot tell the order."""
    T, C = x.shape[1], x.shape[2]
    nh = block.attn.n_head
    pos = torch.arange(T)
    perm = torch.randperm(T, generator=g)
    zeros = torch.zeros(nh, T, T)

    def f(seq: torch.Tensor) -> torch.Tensor:
        if scheme == "learned":
            return block(seq + learned(pos), zeros)
        if scheme == "sinusoidal":
            return block(seq + SinusoidalPosition(C)(pos).float(), zeros)
        if scheme == "ALiBi":
            return block(seq, -ALiBi(nh)(pos, pos).abs())  # both directions: -m |i - j|
        if scheme == "relative":
            return block(seq, relative(pos, pos))
        if scheme == "causal mask only":
            return block(seq)
        return block(seq, zeros)  # no positions, no mask

    return (f(x[:, perm]) - f(x)[:, perm]).abs().max().item()


SCHEMES = ("none", "learned", "sinusoidal", "ALiBi", "relative", "causal mask only")


@torch.no_grad()
def permutation_run(budget: Budget, out: Path) -> Finding:
    g = torch.Generator().manual_seed(budget.seed)
    torch.manual_seed(budget.seed)
    block = TransformerBlock(32, 4).eval()
    learned, relative = LearnedPosition(16, 32), RelativeBias(4)
    torch.nn.init.normal_(learned.table.weight, generator=g)
    torch.nn.init.normal_(relative.weight, generator=g)  # as after training: not all zero
    x = torch.randn(2, 16, 32, generator=g)
    change = {
        s: max(_order_change(block, x, s, g, learned, relative) for _ in range(5)) for s in SCHEMES
    }
    ok = change["none"] <= TOL and all(change[s] > 1e-3 for s in SCHEMES[1:5])

    def draw(ax):
        ax.bar(range(len(SCHEMES)), [max(change[s], 1e-9) for s in SCHEMES],
               color=[f"C{i}" for i in range(len(SCHEMES))])  # fmt: skip
        ax.set_yscale("log")
        ax.set_xticks(range(len(SCHEMES)), SCHEMES, rotation=20, fontsize=7)
        ax.axhline(TOL, color="k", ls="--", lw=1)
        ax.set_ylabel(text("claims.permutation.ylabel", budget.lang), fontsize=8)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.permutation.rule", budget.lang, tol=TOL),
        [{"positions": s, "max |f(x[perm]) - f(x)[perm]|": f"{change[s]:.3g}"} for s in SCHEMES],
        text("claims.permutation.summary", budget.lang, none=f"{change['none']:.2g}",
             least=f"{min(change[s] for s in SCHEMES[1:5]):.3g}"),
        claim_figure(out / "permutation.png", [draw], [], budget.lang),
        text("claims.permutation.experiment", budget.lang),
    )  # fmt: skip


def sinusoidal_run(budget: Budget, out: Path) -> Finding:
    d, T = 16, 64
    table = SinusoidalPosition(d)(torch.arange(T))
    worst = 0.0
    for t in range(T):
        for i in range(d):
            k = i // 2
            w = 1.0 / 10000 ** (2 * k / d)
            want = math.sin(w * t) if i % 2 == 0 else math.cos(w * t)
            worst = max(worst, abs(table[t, i].item() - want))
    ok = worst <= 1e-12

    def draw(ax):
        ax.imshow(table.T.numpy(), aspect="auto", cmap="RdBu")
        ax.set_xlabel(text("claims.sinusoidal.xlabel", budget.lang), fontsize=8)
        ax.set_ylabel(text("claims.sinusoidal.ylabel", budget.lang), fontsize=8)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.sinusoidal.rule", budget.lang),
        [{"positions": T, "dimensions": d, "largest |table - formula|": f"{worst:.2g}"}],
        text("claims.sinusoidal.summary", budget.lang, worst=f"{worst:.2g}"),
        claim_figure(out / "sinusoidal.png", [draw], [], budget.lang),
        text("claims.sinusoidal.experiment", budget.lang),
    )


CLAIMS_MASK = [
    Claim(
        "masking blocks the future",
        "Self-Attention — Masked Self-Attention",
        718,
        "Masking: Blocca i token futuri (upper triangle) ponendo i loro scores a -inf. Softmax: "
        "Converte gli scores in probabilità.",
        "Masked attention gives future tokens weight exactly 0, and each row of weights sums to 1.",
        masking_run,
    ),
]
CLAIMS_POSITION = [
    Claim(
        "attention ignores order",
        "Positional Encoding — Problema",
        800,
        "I transformers processano i tokens simultaneamente, perdendo informazione di sequenza. "
        "Positional Encoding: … consentendo al modello di differenziarli.",
        "Without positions (and without a mask) a transformer block is permutation-equivariant: "
        "it cannot tell the order; every position scheme lets it.",
        permutation_run,
    ),
    Claim(
        "sinusoidal embeddings",
        "Positional Encoding — Sinusoidal Embeddings",
        809,
        "p(t)ᵢ = sin(ωₖ t) se i = 2k, cos(ωₖ t) se i = 2k+1, ωₖ = 1/10000^(2k/d)",
        "reti's sinusoidal table is exactly the notes' formula.",
        sinusoidal_run,
    ),
]
