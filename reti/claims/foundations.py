"""Claims on the first part of the notes: parameter counts, dropout, standard scaling."""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

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
from reti.claims.common import bar_figure, image_set, subset, train_classifier
from reti.errors import TrainingError
from reti.layers import (
    Dropout,
    LocallyConnected2d,
    StandardScaler,
    compare_connectivity,
    count_parameters,
)
from reti.models import MLP, MLPConfig


def params_run(budget: Budget, out: Path) -> Finding:
    rows = compare_connectivity(1000, 1_000_000, 10, 100)
    expected = {"fully connected": 10**12, "locally connected": 10**8, "convolutional": 10**4}
    numbers = [
        {"layer": r.kind, "weights": f"{r.weights:.0e}", "notes": f"{expected[r.kind]:.0e}"}
        for r in rows
    ]
    # The calculator must also agree with real layers (a size small enough to build).
    lc = LocallyConnected2d(1, 4, input_size=20, kernel_size=5, bias=False)
    conv = torch.nn.Conv2d(1, 4, 5, bias=False)
    small = compare_connectivity(20, 4 * 16 * 16, 5, 4)
    built = {"locally connected": count_parameters(lc), "convolutional": count_parameters(conv)}
    for r in small[1:]:
        numbers.append(
            {
                "layer": f"{r.kind} (20x20, 5x5, 4 maps)",
                "weights": r.weights,
                "notes": f"built layer: {built[r.kind]}",
            }
        )
    ok = all(r.weights == expected[r.kind] for r in rows) and all(
        r.weights == built[r.kind] for r in small[1:]
    )
    fig = _log_bars(out / "params.png", {r.kind: r.weights for r in rows})
    return Finding(
        HOLDS if ok else FAILS,
        "holds if the calculator gives exactly 10^12 / 10^8 / 10^4 and matches built layers",
        numbers,
        "FC 10^12, LC 10^8, CNN 10^4 weights, exactly as the notes say.",
        fig,
        "Weights of one layer on a 1000x1000 image with 10^6 hidden units: fully connected, "
        "locally connected with 10x10 patches, 100 shared 10x10 filters (no biases); and the "
        "same calculator against reti.layers.LocallyConnected2d and torch Conv2d built at 20x20.",
    )


def _log_bars(path: Path, values: dict[str, int]) -> Path:
    import matplotlib.pyplot as plt

    from reti.viz import save_figure

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(values), list(values.values()), color=["C0", "C1", "C2"])
    ax.set_yscale("log")
    ax.set_ylabel("weights")
    return save_figure(fig, path)


def _mlp(hidden: tuple[int, ...], p: float = 0.0, mode: str = "inverted", **kw) -> MLP:
    return MLP(MLPConfig(64, 10, hidden=hidden, dropout=p, dropout_mode=mode, **kw))


def dropout_modes_run(budget: Budget, out: Path) -> Finding:
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
    for seed in budget.seeds:
        for mode in accs:
            torch.manual_seed(seed)
            r = train_classifier(
                _mlp((256,), 0.5, mode), train, test, epochs=budget.pick(15, 40), seed=seed
            )
            accs[mode].append(r["test_acc"])
    gap = abs(statistics.fmean(accs["inverted"]) - statistics.fmean(accs["standard"]))
    tol = max(
        max(accs["inverted"]) - min(accs["inverted"]),
        max(accs["standard"]) - min(accs["standard"]),
        0.01,
    )
    expect_ok = all(e < 3.0 / draws**0.5 for e in errors.values())
    verdict = HOLDS if expect_ok and gap <= tol else FAILS
    fig = bar_figure(
        out / "dropout_modes.png",
        {f"{m} test acc": v for m, v in accs.items()},
        "test accuracy",
        "digits MLP 64-256-10, dropout 0.5",
    )
    return Finding(
        verdict,
        "holds if, for both modes, the mean training activation over many masks is within "
        "3/sqrt(draws) (relative) of the inference activation, and the test accuracies differ "
        "by no more than the seed-to-seed spread (at least 1 point)",
        [
            {"mode": m, "relative |E[train] - inference|": errors[m], "test acc": mean_std(accs[m])}
            for m in accs
        ],
        f"expectation errors {errors['inverted']:.4f} / {errors['standard']:.4f} over {draws} "
        f"masks; accuracy gap {gap:.4f} (tolerance {tol:.4f}).",
        fig,
        f"Dropout p=0.5 on 4096 activations averaged over {draws} masks, in both modes; then "
        f"an MLP 64-256-10 on digits trained with each mode, {len(budget.seeds)} seeds.",
    )


def dropout_overfit_run(budget: Budget, out: Path) -> Finding:
    x, y, tx, ty = image_set("digits")
    n_small, epochs = 200, budget.pick(60, 120)
    res: dict[str, list[float]] = {k: [] for k in ("wide", "wide+dropout", "tiny", "tiny+dropout")}
    for seed in budget.seeds:
        small = subset(x, y, n_small, seed)
        for name, model in (
            ("wide", _mlp((512, 512))),
            ("wide+dropout", _mlp((512, 512), 0.5)),
            ("tiny", _mlp((8,))),
            ("tiny+dropout", _mlp((8,), 0.5)),
        ):
            torch.manual_seed(seed)
            r = train_classifier(model, small, (tx, ty), epochs=epochs, seed=seed, batch_size=32)
            res[name].append(r["test_acc"] if "tiny" in name else r["train_acc"] - r["test_acc"])
    helps = compare(res["wide+dropout"], res["wide"], higher_is_better=False)
    tiny_helps = compare(res["tiny+dropout"], res["tiny"], higher_is_better=True)
    not_always = HOLDS if tiny_helps != HOLDS else FAILS
    verdict = (
        HOLDS
        if helps == HOLDS and not_always == HOLDS
        else (FAILS if FAILS in (helps, not_always) else INCONCLUSIVE)
    )
    fig = bar_figure(
        out / "dropout_overfit.png",
        res,
        "gap (wide) / test acc (tiny)",
        f"digits, {n_small} training images",
    )
    return Finding(
        verdict,
        "part 1 (prevents overfitting): the train-test accuracy gap of the wide MLP is smaller "
        "with dropout, by the gap-vs-spread rule; part 2 (not always effective): dropout does "
        "NOT raise the test accuracy of a tiny, underfitting MLP by that rule. Holds if both hold.",
        [{"model": k, "value": mean_std(v)} for k, v in res.items()],
        f"wide: overfitting gap {mean_std(res['wide'])} without vs "
        f"{mean_std(res['wide+dropout'])} with dropout ({helps}); tiny net test acc "
        f"{mean_std(res['tiny'])} without vs {mean_std(res['tiny+dropout'])} with ({tiny_helps}).",
        fig,
        f"{n_small} digits images, {epochs} epochs, AdamW: MLP 64-512-512-10 with and without "
        "dropout 0.5 (gap = train acc - test acc); MLP 64-8-10 with and without dropout 0.5 "
        f"(test acc); {len(budget.seeds)} seeds.",
    )


def scaling_run(budget: Budget, out: Path) -> Finding:
    from reti.claims.common import load_images

    data = load_images("digits")
    raw = data.train_x.flatten(1).float()  # pixel values 0..255: features on a raw scale
    raw_test = data.test_x.flatten(1).float()
    scaler = StandardScaler().fit(raw)
    losses: dict[str, list[float]] = {"raw": [], "standard-scaled": []}
    for seed in budget.seeds:
        for name, (tr, te) in {
            "raw": (raw, raw_test),
            "standard-scaled": (scaler.transform(raw), scaler.transform(raw_test)),
        }.items():
            torch.manual_seed(seed)
            try:
                r = train_classifier(
                    _mlp((64,)),
                    (tr, data.train_y),
                    (te, data.test_y),
                    epochs=budget.pick(5, 10),
                    seed=seed,
                    optimizer="sgd",
                    lr=0.05,
                )
                loss = r["train_loss"]
            except TrainingError:
                loss = float("inf")  # diverged: the loss became NaN/inf
            losses[name].append(min(loss, 100.0))  # cap: a diverged run counts as loss 100
    verdict = compare(losses["standard-scaled"], losses["raw"], higher_is_better=False)
    fig = bar_figure(
        out / "scaling.png",
        losses,
        "final training loss (capped at 100)",
        "digits MLP, SGD lr 0.05",
    )
    return Finding(
        verdict,
        COMPARE_RULE + " (lower final training loss is better; a diverged run counts as 100)",
        [{"features": k, "final train loss": mean_std(v)} for k, v in losses.items()],
        f"final training loss raw {mean_std(losses['raw'])} vs scaled "
        f"{mean_std(losses['standard-scaled'])}.",
        fig,
        "An MLP 64-64-10 on the digits pixels as stored (0..255) and after StandardScaler "
        "X' = (X - mu) / sqrt(sigma^2) fit on the training split; plain SGD lr 0.05, "
        f"{budget.pick(5, 10)} epochs, {len(budget.seeds)} seeds.",
    )


CLAIMS = [
    Claim(
        "parameter counts",
        "Fully Connected / Locally Connected / Convolutional Neural Net",
        "Molti parametri: 10^12 per una immagine 1000x1000 con 1M hidden units … 100M … con "
        "filter size 10x10 … con 100 filtri e dimensione 10x10, si hanno 10k parametri.",
        "A fully connected layer needs 10^12 weights, a locally connected one 10^8, a "
        "convolutional one with 100 shared 10x10 filters 10^4.",
        params_run,
    ),
    Claim(
        "dropout modes agree",
        "Dropout",
        "Le attivazioni vengono scalate … si moltiplica per 1-p … Inverse Dropout: la scalatura "
        "delle attivazioni viene fatta durante il training … h = (r ⊙ x) / (1-p)",
        "Standard dropout (scale by 1-p at inference) and inverted dropout (scale by 1/(1-p) in "
        "training) give the same expected activations.",
        dropout_modes_run,
    ),
    Claim(
        "dropout and overfitting",
        "Dropout",
        "Tecnica di regolarizzazione per prevenire l'overfitting … Efficacia: Non è sempre "
        "efficace.",
        "Dropout prevents overfitting — but it is not always effective.",
        dropout_overfit_run,
    ),
    Claim(
        "standard scaling",
        "Normalizzazione — Standard Scaling",
        "Preprocessa i dati in modo che ogni feature (colonna) abbia media zero e varianza "
        "unitaria. X' = (X - μ) / sqrt(σ²)",
        "Standard scaling of the inputs makes an MLP train faster and more stably.",
        scaling_run,
    ),
]
