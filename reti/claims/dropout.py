"""Claims on dropout (notes: Dropout): it curbs overfitting but not always, what a mask does,
and standard vs inverted scaling."""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.common import image_set, paired, subset, train_classifier
from reti.claims.figures import bars, claim_figure
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT, QUICK_RECORDED
from reti.claims.stats import Effect, Pilot, combine
from reti.errors import ConfigError
from reti.i18n import text
from reti.layers import Dropout
from reti.models import MLP, MLPConfig


def _mlp(n_in: int, hidden: tuple[int, ...], p: float = 0.0, mode: str = "inverted") -> MLP:
    return MLP(MLPConfig(n_in, 10, hidden=hidden, dropout=p, dropout_mode=mode))


def _wide(p: float) -> torch.nn.Module:
    """784-512-512-10 with the classic recipe when ``p`` > 0 (Srivastava et al. 2014): dropout
    0.2 on the input pixels and ``p`` after each hidden layer."""
    return torch.nn.Sequential(
        torch.nn.Flatten(), Dropout(0.2 if p else 0.0), _mlp(784, (512, 512), p)
    )


GAP = Effect(
    "train-test loss gap of the wide MLP", "without dropout", "with dropout", 0.1,
    "0.1 nats of cross-entropy, a tenth of a typical gap here: overfitting shows first in the "
    "loss (a net sure of the test images it gets wrong); the accuracy gap is reported too",
    unit="nats",
    quick_pilot=Pilot.from_interval(range(5), 0.158, 0.122, 0.195, QUICK_RECORDED),
    full_pilot=Pilot.from_interval(range(5), 0.156, 0.112, 0.201, FULL_PILOT),
)  # fmt: skip
TINY = Effect(
    "test accuracy of a tiny MLP (8 hidden units)", "with dropout", "without dropout", 0.01,
    "1 point: 3 of the 300 digits test images; a net too small to overfit should lose from "
    "dropout, showing it is not always effective", higher=False,
    quick_pilot=Pilot.from_interval(range(8), -0.057, -0.082, -0.032, QUICK_RECORDED),
    full_pilot=Pilot.from_interval(range(8), -0.057, -0.082, -0.032, FULL_PILOT),
)  # fmt: skip
N_SMALL, EPOCHS = 1000, 100  # the same in quick and full runs
LR = 3e-4  # pilot (seeds 0, 1): at 1e-3 AdamW the loss gap shrank by only 0.07 nats; see docs


def overfit_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("mnist")
    tx, ty = tx[:2000], ty[:2000]
    dx, dy, dtx, dty = image_set("digits")
    keys = ("gap", "gap+dropout", "acc gap", "acc gap+dropout", "test", "test+dropout")
    res: dict[str, list[float]] = {k: [] for k in (*keys, "tiny", "tiny+dropout")}
    wide_seeds = budget.seeds_for(GAP)  # the power rule's counts (reti.claims.power)
    for seed in wide_seeds:
        small = subset(x, y, N_SMALL, seed)
        for p, tag in ((0.0, ""), (0.5, "+dropout")):
            torch.manual_seed(seed)
            r = train_classifier(_wide(p), small, (tx, ty), epochs=EPOCHS,
                                 seed=seed, batch_size=50, lr=LR)  # fmt: skip
            res["gap" + tag].append(r["test_loss"] - r["train_loss"])
            res["acc gap" + tag].append(r["train_acc"] - r["test_acc"])
            res["test" + tag].append(r["test_acc"])
    tiny_seeds = budget.seeds_for(TINY)
    for seed in tiny_seeds:
        for p, tag in ((0.0, ""), (0.5, "+dropout")):
            torch.manual_seed(seed)
            r = train_classifier(_mlp(64, (8,), p), (dx, dy), (dtx, dty), epochs=30, seed=seed)
            res["tiny" + tag].append(r["test_acc"])
    comps = [
        paired(GAP, res["gap"], res["gap+dropout"], wide_seeds),
        paired(TINY, res["tiny+dropout"], res["tiny"], tiny_seeds),
    ]
    lang = budget.lang
    panel = bars({k: res[k] for k in ("test", "test+dropout", "acc gap", "acc gap+dropout")},
                 text("claims.overfit.ylabel", lang))  # fmt: skip
    return Finding(
        combine([c.verdict for c in comps]),
        text("claims.overfit.rule", lang),
        [{"setting": k, "value": mean_std(v)} for k, v in res.items()],
        text("claims.overfit.summary", lang, gap=mean_std(res["gap"]),
             gap_d=mean_std(res["gap+dropout"]), acc=mean_std(res["acc gap"]),
             acc_d=mean_std(res["acc gap+dropout"]), test=mean_std(res["test"]),
             test_d=mean_std(res["test+dropout"]), tiny=mean_std(res["tiny"]),
             tiny_d=mean_std(res["tiny+dropout"])),
        claim_figure(out / "dropout_overfit.png", [panel], comps, lang),
        text("claims.overfit.experiment", lang, n=N_SMALL, epochs=EPOCHS, lr=LR,
             seeds=len(wide_seeds), tiny_seeds=len(tiny_seeds)),
        comps,
    )  # fmt: skip


def mask_run(budget: Budget, out: Path) -> Finding:
    """h = r ⊙ x with r ~ Bernoulli(1-p): a share p of units is zeroed, the others pass
    unchanged (standard mode), dropped units get no gradient, and p must be in [0, 1)."""
    p, n = 0.3, 200_000
    layer = Dropout(p, "standard", generator=torch.Generator().manual_seed(budget.seed))
    x = (torch.rand(n, generator=torch.Generator().manual_seed(budget.seed)) + 0.5).requires_grad_()
    h = layer(x)
    h.sum().backward()
    dropped = h == 0
    share = dropped.float().mean().item()
    sd = (p * (1 - p) / n) ** 0.5
    kept_exact = torch.equal(h[~dropped], x[~dropped])
    grad_zero = bool((x.grad[dropped] == 0).all()) and bool((x.grad[~dropped] == 1).all())
    refused = []
    for bad in (1.0, -0.1):
        try:
            Dropout(bad)
        except ConfigError:
            refused.append(bad)
    ok = abs(share - p) <= 4 * sd and kept_exact and grad_zero and refused == [1.0, -0.1]
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.mask.rule", budget.lang),
        [{"share zeroed": f"{share:.4f}", "p": p, "4 sd": f"{4 * sd:.4f}",
          "kept units unchanged": kept_exact, "dropped units' gradient 0": grad_zero,
          "p refused": str(refused)}],
        text("claims.mask.summary", budget.lang, share=f"{share:.4f}", p=p),
        None,
        text("claims.mask.experiment", budget.lang, n=n, p=p),
    )  # fmt: skip


AGREE = Effect(
    "test accuracy", "inverted dropout", "standard dropout", 0.02,
    "the two scalings are meant to give the same net; 2 points (6 of 300 test images) is the "
    "largest difference we would still call the same", kind="equivalence",
    quick_pilot=Pilot.from_diffs(range(5), (-0.0033, 0.0, 0.0033, 0.0, 0.0), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.0, -0.003, 0.003, FULL_PILOT),
)  # fmt: skip


def modes_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(AGREE)  # the power rule's count (reti.claims.power)
    g = torch.Generator().manual_seed(budget.seed)
    x = torch.rand(4096, generator=g) + 0.5
    p, draws = 0.5, budget.pick(400, 2000)
    errors = {}
    for mode in ("inverted", "standard"):
        layer = Dropout(p, mode, generator=torch.Generator().manual_seed(budget.seed))
        train_mean = torch.stack([layer(x) for _ in range(draws)]).mean(0)
        layer.eval()
        errors[mode] = ((train_mean - layer(x)).abs().mean() / x.mean()).item()
    train, test = image_set("digits")[:2], image_set("digits")[2:]
    accs = {"inverted": [], "standard": []}
    for seed in seeds:
        for mode in accs:
            torch.manual_seed(seed)
            r = train_classifier(_mlp(64, (256,), 0.5, mode), train, test, epochs=15, seed=seed)
            accs[mode].append(r["test_acc"])
    expect_ok = all(e < 3.0 / draws**0.5 for e in errors.values())
    comp = paired(AGREE, accs["inverted"], accs["standard"], seeds)
    verdict = combine([HOLDS if expect_ok else FAILS, comp.verdict])
    lang = budget.lang
    return Finding(
        verdict,
        text("claims.modes.rule", lang),
        [{"mode": m, "relative |E[train] - inference|": errors[m], "test acc": mean_std(accs[m])}
         for m in accs],
        text("claims.modes.summary", lang, inv=f"{errors['inverted']:.4f}",
             std=f"{errors['standard']:.4f}", draws=draws,
             gap=f"{statistics.fmean(accs['inverted']) - statistics.fmean(accs['standard']):+.4f}"),
        claim_figure(out / "dropout_modes.png", [], [comp], lang),
        text("claims.modes.experiment", lang, draws=draws, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


CLAIMS = [
    Claim(
        "dropout and overfitting",
        "Dropout",
        277,
        "Tecnica di regolarizzazione per prevenire l'overfitting … Efficacia: Non è sempre "
        "efficace.",
        "Dropout prevents overfitting — but it is not always effective.",
        overfit_run,
        (GAP, TINY),
        pilot_seeds=tuple(range(8)),  # the tiny net's pilot ran 8 seeds
    ),
    Claim(
        "dropout masks",
        "Dropout — Funzionamento (Training)",
        283,
        "Disattiva casualmente una frazione di neuroni … 0 ≤ p < 1 … I neuroni disattivati non "
        "contribuiscono al forward o backward pass. h = r ⊙ x, rᵢ ~ Bernoulli(1-p)",
        "Dropout zeroes a share p of the units, passes the others unchanged, and dropped units "
        "get no gradient; p must lie in [0, 1).",
        mask_run,
    ),
    Claim(
        "dropout modes agree",
        "Dropout — Inferenza, Inverse Dropout",
        307,
        "Le attivazioni vengono scalate … si moltiplica per 1-p … Inverse Dropout: la scalatura "
        "delle attivazioni viene fatta durante il training … h = (r ⊙ x) / (1-p)",
        "Standard dropout (scale by 1-p at inference) and inverted dropout (scale by 1/(1-p) in "
        "training) give the same expected activations.",
        modes_run,
        (AGREE,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
