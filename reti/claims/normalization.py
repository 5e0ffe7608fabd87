"""Claims on batch and layer normalization (notes: Batch Normalization, Layer Normalization)."""

from __future__ import annotations

import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, Budget, Claim, Finding, compare, mean_std
from reti.claims.common import bar_figure, image_set, subset, train_classifier
from reti.layers import recompute_bn_stats
from reti.models import MLP, MLPConfig


def _net(norm: str) -> MLP:
    return MLP(MLPConfig(64, 10, hidden=(128, 128), norm=norm))


@torch.no_grad()
def _acc_with_batch_stats(model: MLP, x: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    """Accuracy when every normalization uses the statistics of a test mini-batch of ``batch``."""
    model.train()  # BN normalizes with the mini-batch's own mean and variance
    state = {k: v.clone() for k, v in model.state_dict().items()}
    n = len(x) - len(x) % 64  # the same test images for every batch size (64 is a multiple)
    correct = 0
    for i in range(0, n, batch):
        correct += (model(x[i : i + batch]).argmax(-1) == y[i : i + batch]).sum().item()
    model.load_state_dict(state)  # train-mode passes moved the running stats: put them back
    model.eval()
    return correct / n


def tiny_batch_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("digits")
    res: dict[str, list[float]] = {f"{n} batch {b}": [] for n in ("BN", "LN") for b in (2, 64)}
    trained: dict[str, list[float]] = {"BN trained at batch 2": [], "LN trained at batch 2": []}
    for seed in budget.seeds:
        for norm, label in (("batch", "BN"), ("layer", "LN")):
            torch.manual_seed(seed)
            model = _net(norm)
            r = train_classifier(model, (x, y), (tx, ty), epochs=budget.pick(8, 20), seed=seed)
            for b in (2, 64):
                res[f"{label} batch {b}"].append(_acc_with_batch_stats(model, tx, ty, b))
            torch.manual_seed(seed)
            # an even count: at batch 2 a last batch of one image would leave BN nothing to do
            small = subset(x, y, budget.pick(400, len(x) - len(x) % 2), seed)
            r = train_classifier(
                _net(norm),
                small,
                (tx, ty),
                epochs=budget.pick(2, 5),
                seed=seed,
                batch_size=2,
                lr=3e-4,
            )
            trained[f"{label} trained at batch 2"].append(r["test_acc"])
    bn = compare(res["BN batch 64"], res["BN batch 2"], higher_is_better=True)
    ln_same = all(abs(a - b) < 1e-9 for a, b in zip(res["LN batch 64"], res["LN batch 2"]))
    verdict = HOLDS if bn == HOLDS and ln_same else (FAILS if bn == FAILS else INCONCLUSIVE)
    fig = bar_figure(
        out / "bn_tiny_batch.png",
        {**res, **trained},
        "test accuracy",
        "predictions normalized with mini-batch statistics",
    )
    return Finding(
        verdict,
        "holds if the BN net's test accuracy with batch-2 statistics is below its accuracy with "
        "batch-64 statistics by more than the seed-to-seed spread, while the LN net's "
        "accuracy is identical at both batch sizes",
        [{"setting": k, "test acc": mean_std(v)} for k, v in {**res, **trained}.items()],
        f"BN: {mean_std(res['BN batch 64'])} with batch-64 statistics vs "
        f"{mean_std(res['BN batch 2'])} with batch-2 statistics; LN: "
        f"{mean_std(res['LN batch 64'])} at both (identical: {ln_same}). Trained at batch 2: "
        f"BN {mean_std(trained['BN trained at batch 2'])}, LN "
        f"{mean_std(trained['LN trained at batch 2'])}.",
        fig,
        "MLP 64-128-128-10 on digits with BN or LN after each hidden layer, trained at batch "
        "64; test predictions made with normalization statistics taken from test mini-batches "
        "of 2 vs 64 (train-mode BN); also both nets trained from scratch at batch 2 "
        f"({len(budget.seeds)} seeds).",
    )


def bn_inference_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("digits")
    moving, population = [], []
    for seed in budget.seeds:
        torch.manual_seed(seed)
        model = _net("batch")
        train_classifier(model, (x, y), (tx, ty), epochs=budget.pick(3, 10), seed=seed)
        model.eval()
        with torch.no_grad():
            moving.append((model(tx).argmax(-1) == ty).float().mean().item())
        recompute_bn_stats(model, [x[i : i + 256] for i in range(0, len(x), 256)])
        with torch.no_grad():
            population.append((model(tx).argmax(-1) == ty).float().mean().item())
            _ = F.cross_entropy(model(tx), ty)
    worse = compare(moving, population, higher_is_better=True)
    verdict = FAILS if worse == HOLDS else HOLDS
    fig = bar_figure(
        out / "bn_inference.png",
        {"moving average": moving, "population stats": population},
        "test accuracy",
        "BN inference statistics",
    )
    gap = statistics.fmean(population) - statistics.fmean(moving)
    return Finding(
        verdict,
        "holds if both inference methods give a working net and population statistics are not "
        "worse than moving averages by more than the seed-to-seed spread",
        [
            {"inference": "moving average", "test acc": mean_std(moving)},
            {"inference": "population statistics", "test acc": mean_std(population)},
        ],
        f"moving average {mean_std(moving)}, post-training population statistics "
        f"{mean_std(population)} (gap {gap:+.4f}).",
        fig,
        "MLP 64-128-128-10 with BN on digits, trained briefly (momentum 0.1 moving averages); "
        "test accuracy with the moving averages, then with statistics recomputed over the "
        f"whole training set by reti.layers.recompute_bn_stats ({len(budget.seeds)} seeds).",
    )


CLAIMS = [
    Claim(
        "batch norm with tiny batches",
        "Batch Normalization — Sfide; Layer Normalization",
        "High variance: con batch piccoli, la stima di media e varianza è poco affidabile. … "
        "Layer Normalization: normalizza … attraverso le features (non mini-batch).",
        "Batch norm is unreliable with tiny batches; layer norm does not depend on the batch.",
        tiny_batch_run,
    ),
    Claim(
        "BN inference statistics",
        "Batch Normalization — Inferenza",
        "Post-Training Stats: calcola media e varianza sull'intero dataset e le usa fisse. "
        "Moving Average: mantiene medie mobili … le usa fisse in inferenza.",
        "At inference BN can use moving averages or post-training population statistics.",
        bn_inference_run,
    ),
]
