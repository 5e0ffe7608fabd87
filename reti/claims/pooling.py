"""Claims on pooling (notes: Pooling Layer, Max Pooling): each map alone, 224 -> 112, nothing
to learn, and invariance to small translations."""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.common import image_set, paired, subset, train_classifier
from reti.claims.figures import claim_figure, lines
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.stats import Effect, Pilot
from reti.i18n import text
from reti.layers import MaxPool2d, count_parameters, max_pool
from reti.models import build_model


def per_map_run(budget: Budget, out: Path) -> Finding:
    """Change one activation map: only that map of the pooled output moves."""
    g = torch.Generator().manual_seed(budget.seed)
    x = torch.randn(2, 8, 16, 16, generator=g)
    moved = []
    for k in range(8):
        y = x.clone()
        y[:, k] = torch.randn(2, 16, 16, generator=g)
        diff = (max_pool(y, 2) - max_pool(x, 2)).abs().amax(dim=(0, 2, 3))  # (C,)
        moved.append([c for c in range(8) if diff[c] > 0])
    ok = all(m == [k] for k, m in enumerate(moved))
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.per_map.rule", budget.lang),
        [{"map changed": k, "pooled maps that moved": str(m)} for k, m in enumerate(moved)],
        text("claims.per_map.summary", budget.lang, ok=ok),
        None,
        text("claims.per_map.experiment", budget.lang),
    )


def downsample_run(budget: Budget, out: Path) -> Finding:
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(budget.seed))
    shape = tuple(max_pool(x, 2).shape)
    ok = shape == (1, 3, 112, 112)
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.downsample.rule", budget.lang),
        [{"input": "(1, 3, 224, 224)", "2x2 max pool, stride 2": str(shape)}],
        text("claims.downsample.summary", budget.lang, shape=shape),
        None,
        text("claims.downsample.experiment", budget.lang),
    )


def no_params_run(budget: Budget, out: Path) -> Finding:
    layer = MaxPool2d(2)
    n, state = count_parameters(layer), len(layer.state_dict())
    conv = count_parameters(torch.nn.Conv2d(3, 3, 2, stride=2))
    ok = n == 0 and state == 0
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.no_params.rule", budget.lang),
        [{"layer": "MaxPool2d(2)", "parameters": n, "state entries": state},
         {"layer": "Conv2d(3, 3, 2, stride 2) (control)", "parameters": conv, "state entries": 2}],
        text("claims.no_params.summary", budget.lang, n=n, conv=conv),
        None,
        text("claims.no_params.experiment", budget.lang),
    )  # fmt: skip


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate by (dy, dx) pixels, filling with the background value (the image minimum)."""
    out = torch.full_like(x, x.min().item())
    H, W = x.shape[-2:]
    out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[
        ..., max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
    ]
    return out


SHIFTS = (1, 2, 3, 4)
PATTERNS = {
    "max pooling": "[(CONV3@32-RELU)-POOL]*3-(FC@64-RELU)*1,SOFTMAX",
    "no pooling": "[(CONV3@16-RELU)]*3-(FC@64-RELU)*1,SOFTMAX",
}
AGREEMENT = Effect(
    "prediction agreement under 1-3 px shifts", "max pooling", "no pooling", 0.02,
    "2 points: 20 of the 1000 test images keep their class; less is within what retraining "
    "with another seed moves",
    quick_pilot=Pilot.from_diffs(range(5), (0.1082, 0.1642, 0.1322, 0.1147, 0.1857), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.098, 0.073, 0.123, FULL_PILOT),
)  # fmt: skip
MATCHED = Effect(
    "test accuracy (design check, not judged)", "max pooling", "no pooling", 0.02,
    "the two nets should be equally good (within 2 points) for the comparison to be fair; "
    "reported beside the verdict, as 3 seeds cannot decide an equivalence this tight",
    kind="equivalence",
)  # fmt: skip


def translation_run(budget: Budget, out: Path) -> Finding:
    seeds = budget.seeds_for(AGREEMENT)  # the power rule's count (reti.claims.power)
    x, y, tx, ty = image_set("mnist")
    tx, ty = tx[:1000], ty[:1000]
    agree = {k: {s: [] for s in SHIFTS} for k in PATTERNS}
    feature = {k: {s: [] for s in SHIFTS} for k in PATTERNS}
    acc: dict[str, list[float]] = {k: [] for k in PATTERNS}
    epochs, n = budget.pick(3, 6), budget.pick(4000, 10000)
    for seed in seeds:
        train = subset(x, y, n, seed)
        for name, pattern in PATTERNS.items():
            torch.manual_seed(seed)
            model = build_model(pattern, 10, 1, 28)
            r = train_classifier(model, train, (tx, ty), epochs=epochs, seed=seed)
            acc[name].append(r["test_acc"])
            model.eval()
            body = torch.nn.Sequential(*list(model)[:-1])  # up to the penultimate features
            with torch.no_grad():
                base = model(tx).argmax(-1)
                f0 = body(tx).flatten(1)
                for s in SHIFTS:
                    same, cos = [], []
                    for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s)):
                        moved = _shift(tx, dy, dx)
                        same.append((model(moved).argmax(-1) == base).float().mean().item())
                        f1 = body(moved).flatten(1)
                        cos.append(torch.cosine_similarity(f0, f1, dim=1).mean().item())
                    agree[name][s].append(statistics.fmean(same))
                    feature[name][s].append(statistics.fmean(cos))
    primary = {k: [statistics.fmean(v[s][i] for s in SHIFTS[:3]) for i in range(len(seeds))]
               for k, v in agree.items()}  # fmt: skip
    comps = [
        paired(AGREEMENT, primary["max pooling"], primary["no pooling"], seeds),
        paired(MATCHED, acc["max pooling"], acc["no pooling"], seeds),
    ]
    lang = budget.lang
    panel = lines(
        SHIFTS, {k: [statistics.fmean(v[s]) for s in SHIFTS] for k, v in agree.items()},
        text("claims.translation.xlabel", lang), text("claims.translation.ylabel", lang),
    )  # fmt: skip
    return Finding(
        comps[0].verdict,  # the accuracy match (comps[1]) is a design check, not judged
        text("claims.translation.rule", lang),
        [{"model": k, "test acc": mean_std(acc[k]),
          **{f"agreement @{s}px": mean_std(agree[k][s]) for s in SHIFTS},
          **{f"feature cos @{s}px": mean_std(feature[k][s]) for s in (1, 3)}}
         for k in PATTERNS],  # fmt: skip
        text("claims.translation.summary", lang,
             pool=mean_std(primary["max pooling"]), plain=mean_std(primary["no pooling"]),
             acc_pool=mean_std(acc["max pooling"]), acc_plain=mean_std(acc["no pooling"])),
        claim_figure(out / "pooling.png", [panel], comps, lang),
        text("claims.translation.experiment", lang, n=n, epochs=epochs, seeds=len(seeds)),
        comps,
    )  # fmt: skip


CLAIMS = [
    Claim(
        "pooling works per map",
        "Pooling Layer",
        231,
        "Opera indipendentemente per ogni mappa di attivazione.",
        "Pooling works on each activation map on its own.",
        per_map_run,
    ),
    Claim(
        "pooling halves 224 to 112",
        "Pooling Layer — Downsampling",
        237,
        "Rende la rappresentazione più piccola e gestibile. … Downsampling: 224 diventa 112.",
        "A 2x2 max pool with stride 2 turns a 224x224 map into 112x112.",
        downsample_run,
    ),
    Claim(
        "max pooling has no parameters",
        "Max Pooling",
        245,
        "No learnable parameters.",
        "Max pooling has no learnable parameters.",
        no_params_run,
    ),
    Claim(
        "max pooling and translation",
        "Pooling / Max Pooling",
        248,
        "Filtra risposte a diverse locazioni, ottenendo robustezza. … Introduce spatial "
        "invariance.",
        "Max pooling gives some invariance to small translations.",
        translation_run,
        (AGREEMENT,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
