"""Claims on CNNs: depth with and without residual connections, augmentation, max pooling."""

from __future__ import annotations

import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from reti.augment import parse_spec, soft_cross_entropy
from reti.claims.base import (
    COMPARE_RULE,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    Budget,
    Claim,
    Finding,
    compare,
    mean_std,
)
from reti.claims.common import bar_figure, image_set, line_figure, subset, train_classifier
from reti.models import build_model


def depth_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("digits")
    names = ("plain20", "plain56", "resnet20", "resnet56")
    epochs = budget.pick(4, 15)
    err: dict[str, list[float]] = {n: [] for n in names}
    curves: dict[str, list[float]] = {}
    for seed in budget.seeds:
        for name in names:
            torch.manual_seed(seed)
            model = build_model(name, 10, 1, 8)
            r = train_classifier(
                model, (x, y), (tx, ty), epochs=epochs, seed=seed, batch_size=64, lr=2e-3, desc=name
            )
            err[name].append(1.0 - r["train_acc"])
            curves.setdefault(name, r["curve"])
    plain = compare(err["plain20"], err["plain56"], higher_is_better=False)
    resnet_ok = compare(err["resnet20"], err["resnet56"], higher_is_better=False) != HOLDS
    verdict = (
        HOLDS
        if plain == HOLDS and resnet_ok
        else (FAILS if plain == FAILS else (INCONCLUSIVE if plain == INCONCLUSIVE else FAILS))
    )
    fig = line_figure(
        out / "depth.png",
        list(range(1, epochs + 1)),
        curves,
        "epoch",
        "training loss (seed 1)",
        "plain vs residual, 20 vs 56 layers",
        logy=True,
    )
    return Finding(
        verdict,
        "holds if plain-56 has a higher training error than plain-20 by more than the "
        "seed-to-seed spread, while ResNet-56's training error is not higher than ResNet-20's "
        "by that rule",
        [{"model": n, "training error": mean_std(v)} for n, v in err.items()],
        ", ".join(f"{n} {mean_std(v)}" for n, v in err.items()) + " (training error).",
        fig,
        f"CIFAR-style nets (3 stages, BN, option-A shortcuts; plain twins have none) on digits "
        f"(1497 images, 8x8), AdamW lr 2e-3, {epochs} epochs, training error after training, "
        f"{len(budget.seeds)} seeds. Small data and budget: the effect He et al. saw on CIFAR-10 "
        "at hundreds of epochs is checked here at a small scale.",
    )


def augmentation_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("mnist")
    n, epochs = budget.pick(500, 2000), budget.pick(15, 30)
    tx, ty = tx[:2000], ty[:2000]
    spec = "affine(deg=12,translate=0.1,scale=(0.9,1.1))"
    res: dict[str, list[float]] = {"no augmentation": [], "augmented": []}
    gaps: dict[str, list[float]] = {"no augmentation": [], "augmented": []}
    for seed in budget.seeds:
        small = subset(x, y, n, seed)
        for name in res:
            torch.manual_seed(seed)
            model = build_model("lenet", 10, 1, 28)
            aug = parse_spec(spec, num_classes=10) if name == "augmented" else None
            r = train_classifier(
                model,
                small,
                (tx, ty),
                epochs=epochs,
                seed=seed,
                batch_transform=aug,
                loss_fn=soft_cross_entropy if aug else F.cross_entropy,
            )
            res[name].append(r["test_acc"])
            gaps[name].append(r["train_acc"] - r["test_acc"])
    verdict = compare(res["augmented"], res["no augmentation"], higher_is_better=True)
    fig = bar_figure(
        out / "augmentation.png",
        {
            **{f"test acc, {k}": v for k, v in res.items()},
            **{f"gap, {k}": v for k, v in gaps.items()},
        },
        "accuracy",
        f"LeNet on {n} MNIST images",
    )
    return Finding(
        verdict,
        COMPARE_RULE + " (test accuracy with augmentation vs without)",
        [
            {"training": k, "test acc": mean_std(res[k]), "train-test gap": mean_std(gaps[k])}
            for k in res
        ],
        f"test accuracy {mean_std(res['no augmentation'])} without vs "
        f"{mean_std(res['augmented'])} with augmentation; train-test gap "
        f"{mean_std(gaps['no augmentation'])} vs {mean_std(gaps['augmented'])}.",
        fig,
        f"LeNet-5 shape on a {n}-image MNIST training subset, {epochs} epochs, with and "
        f"without the batched augmentation '{spec}' (per-sample random parameters); tested on "
        f"2000 MNIST test images; {len(budget.seeds)} seeds.",
    )


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate by (dy, dx) pixels, filling with the background value (the image minimum)."""
    out = torch.full_like(x, x.min().item())
    H, W = x.shape[-2:]
    out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[
        ..., max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
    ]
    return out


def pooling_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("mnist")
    tx = tx[:1000]
    patterns = {
        "max pooling": "[(CONV3@16-RELU)-POOL]*2-(FC@64-RELU)*1,SOFTMAX",
        "no pooling": "[(CONV3@16-RELU)]*2-(FC@64-RELU)*1,SOFTMAX",
    }
    shifts = [1, 2, 3]
    agree: dict[str, dict[int, list[float]]] = {k: {s: [] for s in shifts} for k in patterns}
    for seed in budget.seeds:
        train = subset(x, y, budget.pick(3000, 10000), seed)
        for name, pattern in patterns.items():
            torch.manual_seed(seed)
            model = build_model(pattern, 10, 1, 28)
            train_classifier(model, train, (tx, ty[:1000]), epochs=budget.pick(2, 4), seed=seed)
            model.eval()
            with torch.no_grad():
                base = model(tx).argmax(-1)
                for s in shifts:
                    same = [
                        (model(_shift(tx, dy, dx)).argmax(-1) == base).float().mean().item()
                        for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s))
                    ]
                    agree[name][s].append(statistics.fmean(same))
    verdict = compare(agree["max pooling"][2], agree["no pooling"][2], higher_is_better=True)
    fig = line_figure(
        out / "pooling.png",
        shifts,
        {k: [statistics.fmean(v[s]) for s in shifts] for k, v in agree.items()},
        "shift (pixels)",
        "prediction agreement with the unshifted image",
        "translation invariance",
    )
    return Finding(
        verdict,
        COMPARE_RULE + " (agreement at a 2-pixel shift, averaged over 4 directions)",
        [
            {"model": k, **{f"agreement @{s}px": mean_std(v[s]) for s in shifts}}
            for k, v in agree.items()
        ],
        "agreement at 2 px: " + ", ".join(f"{k} {mean_std(v[2])}" for k, v in agree.items()),
        fig,
        "Two CNNs alike but for two 2x2 max pools, trained on an MNIST subset; the share of "
        "1000 test images whose predicted class stays the same when the image is shifted by "
        f"1-3 pixels up/down/left/right ({len(budget.seeds)} seeds).",
    )


CLAIMS = [
    Claim(
        "depth: plain vs residual",
        "Connessioni Residue — Deep Residual Networks",
        "Performance migliore con profondità maggiori rispetto alle reti normali. … I derivati "
        "non si annullano grazie alla forma F(x) + x.",
        "Plain deep nets get worse with depth where residual nets don't.",
        depth_run,
    ),
    Claim(
        "augmentation reduces overfitting",
        "Data Augmentation",
        "Tecnica per aumentare la dimensione del training set applicando trasformazioni casuali "
        "ai dati. … Benefici: Previene overfitting e migliora la robustezza del modello.",
        "Data augmentation reduces overfitting on a small training set.",
        augmentation_run,
    ),
    Claim(
        "max pooling and translation",
        "Pooling / Max Pooling",
        "Filtra risposte a diverse locazioni, ottenendo robustezza. … Introduce spatial "
        "invariance.",
        "Max pooling gives some invariance to small translations.",
        pooling_run,
    ),
]
