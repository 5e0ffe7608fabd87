"""Claim on data augmentation (notes: Data Augmentation): it curbs overfitting."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from reti.augment import parse_spec, soft_cross_entropy
from reti.claims.base import Budget, Claim, Finding, mean_std
from reti.claims.common import image_set, paired, subset, train_classifier
from reti.claims.figures import bars, claim_figure
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.stats import Effect, Pilot
from reti.i18n import text
from reti.models import build_model

AUGMENTED = Effect(
    "train-test accuracy gap of LeNet on 500 MNIST images", "not augmented", "augmented", 0.01,
    "1 point (20 of 2000 test images); below that a change of seed moves it as much",
    quick_pilot=Pilot.from_diffs(range(5), (0.036, 0.052, 0.059, 0.0715, 0.063), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.056, 0.04, 0.073, FULL_PILOT),
)  # fmt: skip
N_SMALL, EPOCHS = 500, 30  # the same in quick and full runs: the full run only adds seeds
SPEC = "affine(deg=12,translate=0.1,scale=(0.9,1.1))"


def augmentation_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(AUGMENTED)  # the power rule's count (reti.claims.power)
    x, y, tx, ty = image_set("mnist")
    tx, ty = tx[:2000], ty[:2000]
    acc: dict[str, list[float]] = {"not augmented": [], "augmented": []}
    gaps: dict[str, list[float]] = {"not augmented": [], "augmented": []}
    for seed in seeds:
        small = subset(x, y, N_SMALL, seed)
        for name in acc:
            torch.manual_seed(seed)
            aug = parse_spec(SPEC, num_classes=10) if name == "augmented" else None
            r = train_classifier(
                build_model("lenet", 10, 1, 28), small, (tx, ty), epochs=EPOCHS, seed=seed,
                batch_transform=aug, loss_fn=soft_cross_entropy if aug else F.cross_entropy,
            )  # fmt: skip
            acc[name].append(r["test_acc"])
            gaps[name].append(r["train_acc"] - r["test_acc"])
    comp = paired(AUGMENTED, gaps["not augmented"], gaps["augmented"], seeds)
    lang = budget.lang
    panel = bars({**{f"test acc, {k}": v for k, v in acc.items()},
                  **{f"gap, {k}": v for k, v in gaps.items()}},
                 text("claims.augment.ylabel", lang))  # fmt: skip
    return Finding(
        comp.verdict,
        text("claims.augment.rule", lang),
        [{"training": k, "test acc": mean_std(acc[k]), "train-test gap": mean_std(gaps[k])}
         for k in acc],
        text("claims.augment.summary", lang, plain=mean_std(acc["not augmented"]),
             aug=mean_std(acc["augmented"]), gap=mean_std(gaps["not augmented"]),
             gap_a=mean_std(gaps["augmented"])),
        claim_figure(out / "augmentation.png", [panel], [comp], lang),
        text("claims.augment.experiment", lang, n=N_SMALL, epochs=EPOCHS, spec=SPEC,
             seeds=len(seeds)),
        [comp],
    )  # fmt: skip


CLAIMS = [
    Claim(
        "augmentation reduces overfitting",
        "Data Augmentation",
        494,
        "Tecnica per aumentare la dimensione del training set applicando trasformazioni casuali "
        "ai dati. … Benefici: Previene overfitting e migliora la robustezza del modello.",
        "Data augmentation reduces overfitting on a small training set.",
        augmentation_run,
        (AUGMENTED,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
