"""Claims on residual connections (notes: Connessioni Residue): F(x) = 0 is the identity,
F(x) + x keeps the gradient alive, and deep residual nets beat deep plain ones."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import torch
from torch import nn

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.common import image_set, paired, train_classifier
from reti.claims.figures import claim_figure, lines
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.stats import Effect, Pilot
from reti.i18n import text
from reti.layers import TransformerBlock
from reti.models import build_model
from reti.models.resnet import BasicBlock


@torch.no_grad()
def identity_run(budget: Budget, out: Path) -> Finding:
    """Zero the last layer of F: a ResNet basic block (on post-ReLU inputs, as inside a ResNet)
    and a pre-LN transformer block must return their input bit for bit."""
    torch.manual_seed(budget.seed)
    g = torch.Generator().manual_seed(budget.seed)
    block = BasicBlock(8, 8, 1, "A").eval()
    x = torch.relu(torch.randn(2, 8, 12, 12, generator=g))
    before = (block(x) - x).abs().max().item()
    last_bn = block.residual[-1]
    last_bn.weight.zero_(), last_bn.bias.zero_()  # F(x) = 0
    conv_same = torch.equal(block(x), x)
    tb = TransformerBlock(32, 4).eval()
    s = torch.randn(2, 10, 32, generator=g)
    tb_before = (tb(s) - s).abs().max().item()
    for layer in (tb.attn.proj, tb.mlp.out):
        layer.weight.zero_(), layer.bias.zero_()
    tb_same = torch.equal(tb(s), s)
    ok = conv_same and tb_same and before > 0 and tb_before > 0
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.identity.rule", budget.lang),
        [{"block": "ResNet basic block", "|h - x| before": f"{before:.3g}", "h == x with F = 0":
          conv_same},
         {"block": "pre-LN transformer block", "|h - x| before": f"{tb_before:.3g}",
          "h == x with F = 0": tb_same}],
        text("claims.identity.summary", budget.lang, conv=conv_same, tb=tb_same),
        None,
        text("claims.identity.experiment", budget.lang),
    )  # fmt: skip


class _Deep(nn.Module):
    """``depth`` blocks F(h) = W2 relu(W1 h) (PyTorch's default init): plain ``h = relu(F(h))``
    or residual ``h = h + F(h)``."""

    def __init__(self, depth: int, width: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
            for _ in range(depth)
        )
        self.head = nn.Linear(width, 10)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for f in self.blocks:
            h = h + f(h) if self.residual else torch.relu(f(h))
        return self.head(h)


def first_layer_gradient(depth: int, residual: bool, seed: int, width: int = 64) -> float:
    """log10 of |dL/dW| at the first layer over |dL/dW| at the last block's, at init."""
    torch.manual_seed(seed)
    net = _Deep(depth, width, residual)
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(128, width, generator=g), torch.randint(0, 10, (128,), generator=g)
    nn.functional.cross_entropy(net(x), y).backward()
    first = net.blocks[0][0].weight.grad.norm().item()
    last = net.blocks[-1][2].weight.grad.norm().item()
    return math.log10(max(first, 1e-45) / last)  # a gradient of exactly 0 counts as 1e-45


GRADIENT = Effect(
    "log10(first-layer / last-layer gradient norm) at init, 16 blocks", "residual", "plain", 1.0,
    "one order of magnitude: 'vanishing' means the first layers' gradient shrinks by powers of "
    "ten, not by a few percent",
    quick_pilot=Pilot.from_diffs(
        range(5), (10.1628, 11.2691, 11.3162, 10.4765, 10.5639), QUICK_PILOT
    ),
    full_pilot=Pilot.from_interval(range(5), 10.8, 10.1, 11.4, FULL_PILOT),
)  # fmt: skip
DEPTHS = (1, 2, 4, 8, 16, 24)
PRIMARY = 16  # 32 linear layers: deep, yet the plain gradient has not underflowed to 0


def gradient_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(GRADIENT)  # the power rule's count (reti.claims.power)
    res = {name: {d: [first_layer_gradient(d, name == "residual", s) for s in seeds]
                  for d in DEPTHS} for name in ("plain", "residual")}  # fmt: skip
    comp = paired(GRADIENT, res["residual"][PRIMARY], res["plain"][PRIMARY], seeds)
    lang = budget.lang
    means = {k: [statistics.fmean(v[d]) for d in DEPTHS] for k, v in res.items()}
    labels = text("claims.gradient.xlabel", lang), text("claims.gradient.ylabel", lang)
    panel = lines(DEPTHS, means, *labels)
    return Finding(
        comp.verdict,
        text("claims.gradient.rule", lang),
        [{"blocks": d, **{k: mean_std(res[k][d]) for k in res}} for d in DEPTHS],
        text("claims.gradient.summary", lang, plain=mean_std(res["plain"][PRIMARY]),
             residual=mean_std(res["residual"][PRIMARY])),
        claim_figure(out / "gradient.png", [panel], [comp], lang),
        text("claims.gradient.experiment", lang, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


DEPTH = Effect(
    "depth penalty: training error at 56 layers minus at 20", "plain", "residual", 0.02,
    "2 points of training error (30 of 1497 images): the notes' claim is about a large "
    "degradation, not a fine difference",
    quick_pilot=Pilot.from_diffs(range(5), (0.7595, 0.672, 0.7308, 0.7568, 0.6673), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.59, 0.43, 0.74, FULL_PILOT),
)  # fmt: skip


def depth_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(DEPTH)  # the power rule's count (reti.claims.power)
    x, y, tx, ty = image_set("digits")
    names = ("plain20", "plain56", "resnet20", "resnet56")
    epochs = budget.pick(4, 15)
    err: dict[str, list[float]] = {n: [] for n in names}
    curves: dict[str, list[float]] = {}
    for seed in seeds:
        for name in names:
            torch.manual_seed(seed)
            r = train_classifier(build_model(name, 10, 1, 8), (x, y), (tx, ty), epochs=epochs,
                                 seed=seed, batch_size=64, lr=2e-3)  # fmt: skip
            err[name].append(1.0 - r["train_acc"])
            curves.setdefault(name, r["curve"])
    penalty = {
        k: [a - b for a, b in zip(err[f"{k}56"], err[f"{k}20"])] for k in ("plain", "resnet")
    }
    comp = paired(DEPTH, penalty["plain"], penalty["resnet"], seeds)
    lang = budget.lang
    panel = lines(range(1, epochs + 1), curves, text("claims.depth.xlabel", lang),
                  text("claims.depth.ylabel", lang), logy=True)  # fmt: skip
    return Finding(
        comp.verdict,
        text("claims.depth.rule", lang),
        [{"model": n, "training error": mean_std(v)} for n, v in err.items()],
        ", ".join(f"{n} {mean_std(v)}" for n, v in err.items()),
        claim_figure(out / "depth.png", [panel], [comp], lang),
        text("claims.depth.experiment", lang, epochs=epochs, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


CLAIMS = [
    Claim(
        "F(x) = 0 is the identity",
        "Connessioni Residue — Backpropagation",
        354,
        "Se i parametri sono tali che F(x) = 0, allora l'input passa inalterato (funzione "
        "identità).",
        "With F(x) = 0 a residual block passes its input through unchanged.",
        identity_run,
    ),
    Claim(
        "F(x) + x keeps gradients",
        "Connessioni Residue — Backpropagation",
        357,
        "I derivati non si annullano grazie alla forma F(x) + x.",
        "In a deep net, the form F(x) + x keeps the first layers' gradient from vanishing.",
        gradient_run,
        (GRADIENT,),
        pilot_seeds=PILOT_SEEDS,
    ),
    Claim(
        "depth: plain vs residual",
        "Connessioni Residue — Deep Residual Networks",
        369,
        "Performance migliore con profondità maggiori rispetto alle reti normali.",
        "Going deeper hurts plain nets far more than residual nets.",
        depth_run,
        (DEPTH,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
