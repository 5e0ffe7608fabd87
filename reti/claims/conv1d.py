"""Claims on the 1D convolution (notes: Convoluzioni 1D — Parameter Sharing, Translation
Invariance): one filter for every step, and a shift in time shifts the output."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding
from reti.claims.figures import claim_figure
from reti.i18n import text

TOL = 1e-5  # float32 rounding: the same sums taken in another order


@torch.no_grad()
def sharing_run(budget: Budget, out: Path) -> Finding:
    """H_i = sum_j sum_z W_(j,z) X_(i+j,z) + b with the same W at every step i; the count of
    parameters does not depend on the length n, where one filter per step would grow with n."""
    g = torch.Generator().manual_seed(budget.seed)
    c, cout, k = 3, 4, 5
    conv = torch.nn.Conv1d(c, cout, k)
    count = sum(p.numel() for p in conv.parameters())
    rows, worst = [], 0.0
    for n in (16, 128, 1024):
        x = torch.randn(1, c, n, generator=g)
        h = conv(x)  # (1, cout, n - k + 1)
        windows = x.unfold(2, k, 1)  # (1, c, n-k+1, k): the window of every step
        by_hand = torch.einsum("ozk,bztk->bot", conv.weight, windows) + conv.bias[:, None]
        worst = max(worst, (h - by_hand).abs().max().item())
        per_step = cout * c * k * (n - k + 1) + cout
        rows.append({"length n": n, "conv parameters": count, "one filter per step": per_step})
    ok = worst <= TOL and count == cout * c * k + cout

    def draw(ax):
        ns = [r["length n"] for r in rows]
        ax.loglog(ns, [r["conv parameters"] for r in rows], marker="o", label="Conv1d (shared)")
        ax.loglog(ns, [r["one filter per step"] for r in rows], marker="s",
                  label="one filter per step")  # fmt: skip
        ax.set_xlabel(text("claims.sharing.xlabel", budget.lang), fontsize=8)
        ax.set_ylabel(text("claims.params.ylabel", budget.lang), fontsize=8)
        ax.legend(fontsize=7)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.sharing.rule", budget.lang, tol=TOL),
        rows + [{"length n": "largest |conv - same W by hand|", "conv parameters": f"{worst:.2g}"}],
        text("claims.sharing.summary", budget.lang, count=count, worst=f"{worst:.2g}"),
        claim_figure(out / "conv1d_sharing.png", [draw], [], budget.lang),
        text("claims.sharing.experiment", budget.lang),
    )


@torch.no_grad()
def shift_run(budget: Budget, out: Path) -> Finding:
    """Delay the series by s steps: the output is delayed by s steps (away from the edge)."""
    g = torch.Generator().manual_seed(budget.seed)
    torch.manual_seed(budget.seed)
    conv = torch.nn.Conv1d(2, 3, 7)
    x = torch.randn(4, 2, 200, generator=g)
    worst, rows = 0.0, []
    for s in (1, 5, 17, 60):
        delayed = F.pad(x, (s, 0))[..., :200]  # x'_t = x_(t-s), zeros before the start
        h, h2 = conv(x), conv(delayed)
        diff = (h2[..., s:] - h[..., : h.shape[-1] - s]).abs().max().item()
        moved = (h2 - h).abs().max().item()  # control: unshifted outputs do differ
        worst = max(worst, diff)
        rows.append({"shift s": s, "max |H'(t) - H(t - s)|": f"{diff:.2g}",
                     "max |H'(t) - H(t)| (control)": f"{moved:.3g}"})  # fmt: skip
    ok = worst <= TOL

    def draw(ax):
        s = 17
        ax.plot(conv(x)[0, 0].numpy(), label="H(t)")
        ax.plot(conv(F.pad(x, (s, 0))[..., :200])[0, 0].numpy(), ls="--", label=f"H'(t), s={s}")
        ax.set_xlabel(text("claims.shift.xlabel", budget.lang), fontsize=8)
        ax.legend(fontsize=7)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.shift.rule", budget.lang, tol=TOL),
        rows,
        text("claims.shift.summary", budget.lang, worst=f"{worst:.2g}"),
        claim_figure(out / "conv1d_shift.png", [draw], [], budget.lang),
        text("claims.shift.experiment", budget.lang),
    )


CLAIMS = [
    Claim(
        "1D convolution shares parameters",
        "Convoluzioni 1D — Scopi",
        592,
        "Parameter Sharing: Stesso filtro applicato a tutti i passi, riducendo i parametri.",
        "A 1D convolution applies the same filter at every step, so its parameters do not grow "
        "with the length of the series.",
        sharing_run,
    ),
    Claim(
        "1D convolution and time shifts",
        "Convoluzioni 1D — Scopi",
        595,
        "Translation Invariance: Robustezza a shift nel tempo.",
        "Delaying a series delays a 1D convolution's output by the same steps (equivariance).",
        shift_run,
    ),
]
