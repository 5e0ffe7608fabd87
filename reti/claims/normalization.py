"""Claims on normalization (notes: Normalizzazione): standard scaling, batch norm at
inference and on convolutions, batch norm with tiny batches vs layer norm."""

from __future__ import annotations

from pathlib import Path

import torch

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.common import image_set, load_images, paired, subset, train_classifier
from reti.claims.figures import bars, claim_figure
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.stats import Effect, Pilot, combine
from reti.errors import TrainingError
from reti.i18n import text
from reti.layers import StandardScaler, recompute_bn_stats
from reti.metrics import accuracy
from reti.models import MLP, MLPConfig


def _net(norm: str, n_in: int = 64, hidden: tuple[int, ...] = (128, 128)) -> MLP:
    return MLP(MLPConfig(n_in, 10, hidden=hidden, norm=norm))


SCALED = Effect(
    "final training loss (SGD lr 0.05, 5 epochs)", "raw pixels 0..255", "standard-scaled", 0.1,
    "0.1 nats: a difference a reader would see on a loss curve", higher=True,
    quick_pilot=Pilot.from_diffs(range(5), (2.2618, 2.2603, 2.2594, 2.2572, 2.2587), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 2.259, 2.257, 2.262, FULL_PILOT),
)  # fmt: skip


def scaling_run(budget: Budget, out: Path) -> Finding:
    """Part 1 (the notes' statement, exact): every varying feature gets mean 0 and variance 1
    (1/n); part 2 (why): an MLP trained with SGD on raw vs scaled pixels."""
    seeds = budget.seeds_for(SCALED)  # the power rule's count (reti.claims.power)
    data = load_images("digits")
    raw, raw_test = data.train_x.flatten(1).float(), data.test_x.flatten(1).float()
    scaler = StandardScaler().fit(raw)
    z = scaler.transform(raw)
    varying = raw.var(0, unbiased=False) > 0
    worst_mean = z[:, varying].mean(0).abs().max().item()
    worst_var = (z[:, varying].var(0, unbiased=False) - 1).abs().max().item()
    exact_ok = worst_mean < 1e-5 and worst_var < 1e-4
    losses: dict[str, list[float]] = {"raw": [], "scaled": []}
    for seed in seeds:
        for name, (tr, te) in {"raw": (raw, raw_test),
                               "scaled": (z, scaler.transform(raw_test))}.items():  # fmt: skip
            torch.manual_seed(seed)
            try:
                r = train_classifier(_net("none", 64, (64,)), (tr, data.train_y),
                                     (te, data.test_y), epochs=5, seed=seed, optimizer="sgd",
                                     lr=0.05)  # fmt: skip
                loss = r["train_loss"]
            except TrainingError:
                loss = float("inf")  # diverged: the loss became NaN/inf
            losses[name].append(min(loss, 100.0))  # a diverged run counts as loss 100
    comp = paired(SCALED, losses["raw"], losses["scaled"], seeds)
    lang = budget.lang
    return Finding(
        combine([HOLDS if exact_ok else FAILS, comp.verdict]),
        text("claims.scaling.rule", lang),
        [{"check": "largest |mean| of a scaled feature", "value": f"{worst_mean:.2g}"},
         {"check": "largest |variance - 1| (1/n)", "value": f"{worst_var:.2g}"},
         *({"check": f"final train loss, {k}", "value": mean_std(v)} for k, v in losses.items())],
        text("claims.scaling.summary", lang, mean=f"{worst_mean:.2g}", var=f"{worst_var:.2g}",
             raw=mean_std(losses["raw"]), scaled=mean_std(losses["scaled"])),
        claim_figure(out / "scaling.png", [], [comp], lang),
        text("claims.scaling.experiment", lang, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


POPULATION = Effect(
    "test accuracy", "population statistics", "moving averages", 0.02,
    "the notes offer both as working choices; within 2 points (6 of 300 images) they agree",
    kind="equivalence",
    quick_pilot=Pilot.from_diffs(range(5), (0.01, 0.0, 0.0033, 0.0, 0.0), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.002, -0.0, 0.004, FULL_PILOT),
)  # fmt: skip


def bn_inference_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(POPULATION)  # the power rule's count (reti.claims.power)
    x, y, tx, ty = image_set("digits")
    moving, population = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        model = _net("batch")
        train_classifier(model, (x, y), (tx, ty), epochs=budget.pick(3, 10), seed=seed)
        model.eval()
        with torch.no_grad():
            moving.append(accuracy(ty, model(tx).argmax(-1)))
        recompute_bn_stats(model, [x[i : i + 256] for i in range(0, len(x), 256)])
        with torch.no_grad():
            population.append(accuracy(ty, model(tx).argmax(-1)))
    comp = paired(POPULATION, population, moving, seeds)
    lang = budget.lang
    return Finding(
        comp.verdict,
        text("claims.bn_inference.rule", lang),
        [{"inference": "moving average", "test acc": mean_std(moving)},
         {"inference": "population statistics", "test acc": mean_std(population)}],
        text("claims.bn_inference.summary", lang, moving=mean_std(moving),
             population=mean_std(population)),
        claim_figure(out / "bn_inference.png", [], [comp], lang),
        text("claims.bn_inference.experiment", lang, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


def bn_channels_run(budget: Budget, out: Path) -> Finding:
    """BatchNorm2d in training: every channel's output has mean 0 and variance 1 over
    (N, H, W) — one statistic per channel — while single positions are not normalized."""
    g = torch.Generator().manual_seed(budget.seed)
    x = torch.randn(16, 6, 10, 10, generator=g) * 3 + torch.arange(6.0)[:, None, None]
    bn = torch.nn.BatchNorm2d(6).train()
    h = bn(x).detach()
    per_channel_mean = h.mean((0, 2, 3)).abs().max().item()
    per_channel_var = (h.var((0, 2, 3), unbiased=False) - 1).abs().max().item()
    per_position_mean = h.mean(0).abs().max().item()  # one (c, i, j) over the batch only
    stats = tuple(bn.running_mean.shape)
    ok = per_channel_mean < 1e-5 and per_channel_var < 1e-3 and per_position_mean > 0.1
    ok = ok and stats == (6,)
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.bn_channels.rule", budget.lang),
        [{"check": "largest |channel mean| over (N, H, W)", "value": f"{per_channel_mean:.2g}"},
         {"check": "largest |channel variance - 1|", "value": f"{per_channel_var:.2g}"},
         {"check": "largest |mean| of one position over N (control)",
          "value": f"{per_position_mean:.3g}"},
         {"check": "running statistics shape", "value": str(stats)}],
        text("claims.bn_channels.summary", budget.lang, shape=stats),
        None,
        text("claims.bn_channels.experiment", budget.lang),
    )  # fmt: skip


@torch.no_grad()
def _acc_with_batch_stats(model: MLP, x: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    """Accuracy when every normalization uses the statistics of a test mini-batch of ``batch``."""
    model.train()  # BN normalizes with the mini-batch's own mean and variance
    state = {k: v.clone() for k, v in model.state_dict().items()}
    n = len(x) - len(x) % 64  # the same test images for every batch size (64 is a multiple)
    preds = torch.cat([model(x[i : i + batch]).argmax(-1) for i in range(0, n, batch)])
    model.load_state_dict(state)  # train-mode passes moved the running stats: put them back
    model.eval()
    return accuracy(y[:n], preds)


TINY_BATCH = Effect(
    "BN net's test accuracy", "batch-64 statistics", "batch-2 statistics", 0.02,
    "2 points (6 of 300 images): 'unreliable' should cost more than that",
    quick_pilot=Pilot.from_diffs(range(5), (0.3789, 0.4102, 0.3555, 0.3633, 0.4023), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.416, 0.379, 0.452, FULL_PILOT),
)  # fmt: skip


def tiny_batch_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(TINY_BATCH)  # the power rule's count (reti.claims.power)
    x, y, tx, ty = image_set("digits")
    res: dict[str, list[float]] = {f"{n} batch {b}": [] for n in ("BN", "LN") for b in (2, 64)}
    trained: dict[str, list[float]] = {"BN trained at batch 2": [], "LN trained at batch 2": []}
    for seed in seeds:
        for norm, label in (("batch", "BN"), ("layer", "LN")):
            torch.manual_seed(seed)
            model = _net(norm)
            train_classifier(model, (x, y), (tx, ty), epochs=budget.pick(8, 20), seed=seed)
            for b in (2, 64):
                res[f"{label} batch {b}"].append(_acc_with_batch_stats(model, tx, ty, b))
            torch.manual_seed(seed)
            # an even count: at batch 2 a last batch of one image would leave BN nothing to do
            small = subset(x, y, budget.pick(400, len(x) - len(x) % 2), seed)
            r = train_classifier(_net(norm), small, (tx, ty), epochs=budget.pick(2, 5),
                                 seed=seed, batch_size=2, lr=3e-4)  # fmt: skip
            trained[f"{label} trained at batch 2"].append(r["test_acc"])
    comp = paired(TINY_BATCH, res["BN batch 64"], res["BN batch 2"], seeds)
    ln_same = all(abs(a - b) < 1e-9 for a, b in zip(res["LN batch 64"], res["LN batch 2"]))
    lang = budget.lang
    return Finding(
        combine([comp.verdict, HOLDS if ln_same else FAILS]),
        text("claims.tiny_batch.rule", lang),
        [{"setting": k, "test acc": mean_std(v)} for k, v in {**res, **trained}.items()],
        text("claims.tiny_batch.summary", lang, bn64=mean_std(res["BN batch 64"]),
             bn2=mean_std(res["BN batch 2"]), ln=mean_std(res["LN batch 64"]), same=ln_same,
             bnt=mean_std(trained["BN trained at batch 2"]),
             lnt=mean_std(trained["LN trained at batch 2"])),
        claim_figure(out / "bn_tiny_batch.png", [bars({**res, **trained},
                     text("claims.tiny_batch.ylabel", lang))], [comp], lang),
        text("claims.tiny_batch.experiment", lang, seeds=len(seeds)),
        [comp],
    )  # fmt: skip


CLAIMS = [
    Claim(
        "standard scaling",
        "Normalizzazione — Standard Scaling",
        398,
        "Preprocessa i dati in modo che ogni feature (colonna) abbia media zero e varianza "
        "unitaria. X' = (X - μ) / sqrt(σ²)",
        "Standard scaling gives every feature mean 0 and variance 1 (and so lets plain SGD "
        "train on raw pixel values).",
        scaling_run,
        (SCALED,),
        pilot_seeds=PILOT_SEEDS,
    ),
    Claim(
        "BN inference statistics",
        "Batch Normalization — Inferenza",
        439,
        "Post-Training Stats: calcola media e varianza sull'intero dataset e le usa fisse. "
        "Moving Average: mantiene medie mobili … le usa fisse in inferenza.",
        "At inference BN can use moving averages or post-training population statistics: both "
        "work, equally well.",
        bn_inference_run,
        (POPULATION,),
        pilot_seeds=PILOT_SEEDS,
    ),
    Claim(
        "BN per channel",
        "Batch Normalization — BN Convoluzioni",
        448,
        "Media e varianza sono calcolate per canale, non per feature.",
        "On convolutions, batch norm computes one mean and variance per channel.",
        bn_channels_run,
    ),
    Claim(
        "batch norm with tiny batches",
        "Batch Normalization — Sfide; Layer Normalization",
        457,
        "High variance: con batch piccoli, la stima di media e varianza è poco affidabile. … "
        "Layer Normalization: normalizza … attraverso le features (non mini-batch).",
        "Batch norm is unreliable with tiny batches; layer norm does not depend on the batch.",
        tiny_batch_run,
        (TINY_BATCH,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
