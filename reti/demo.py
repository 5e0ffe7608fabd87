"""`reti demo`, the README's main job: the notes, section by section, trained and reported.

The demo is a list of sections. Each is ``section(out_dir, quick) -> str``: it trains what it
needs, writes its files (figures, runs) under ``out_dir`` and returns markdown. They run in
order, each under its own heading, and ``report.md`` is rewritten atomically after every
section, so partial progress shows while the rest is still training. ``quick`` asks for a small
budget (tests, smoke runs); the full budget is sized for a 2-core CPU.

Section 1 (notes: Reti Neurali, Fully Connected / Locally Connected / Convolutional Neural Net):
the linear score ``f = Wx`` and the 2-layer net ``f = W2 max(0, W1 x)`` trained on MNIST side
by side, their learning curves, and the notes' parameter table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from reti.data.images import ImageData, load_images
from reti.io import atomic_write_text, ensure_dir
from reti.layers.params import compare_connectivity, count_parameters, format_params_table
from reti.models.mlp import MLP, MLPConfig
from reti.tasks import series, text, vision
from reti.train import History, TrainConfig, evaluate, fit
from reti.viz import save_figure

Section = Callable[[Path, bool], str]

# What section 1 trains on; tests point it at a small set.
FOUNDATIONS_DATA = "mnist"
TARGET_ACCURACY = 0.975  # the 2-layer net on MNIST (issue: "should reach >= 97.5%")


def _accuracy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (out.argmax(-1) == y).float()


def _prepare(data: ImageData, quick: bool) -> tuple[tuple, tuple, tuple]:
    """uint8 images -> float in [0, 1], standardized with the training set's mean and std.

    Returns (train, val, test) as (X, y) pairs; the last 1/12 of the training images are the
    validation set that draws the learning curves; the test set is only used once, at the end.
    """
    train_x, train_y, test_x, test_y = data.train_x, data.train_y, data.test_x, data.test_y
    if quick:  # a small budget: a slice of each split
        train_x, train_y = train_x[:3000], train_y[:3000]
        test_x, test_y = test_x[:1000], test_y[:1000]
    x = train_x.float() / 255.0
    mean, std = x.mean(), x.std()
    x = (x - mean) / std
    tx = (test_x.float() / 255.0 - mean) / std
    n_val = max(len(x) // 12, 1)
    train = (x[:-n_val], train_y[:-n_val])
    val = (x[-n_val:], train_y[-n_val:])
    return train, val, (tx, test_y)


def _train_one(
    name: str, config: MLPConfig, train: tuple, val: tuple, test: tuple, cfg: TrainConfig, out: Path
) -> tuple[History, dict, float, int]:
    torch.manual_seed(cfg.seed)  # the same initial weights for the same seed
    model = MLP(config)
    start = time.perf_counter()
    history = fit(
        model,
        train,
        cfg,
        loss_fn=F.cross_entropy,
        val=val,
        metrics={"accuracy": _accuracy},
        run_dir=out / name,
        model_config=asdict(config),
        progress_desc=name,
    )
    seconds = time.perf_counter() - start
    scores = evaluate(
        history.model,
        test,
        loss_fn=F.cross_entropy,
        metrics={"accuracy": _accuracy},
        device=cfg.device,
    )
    return history, scores, seconds, count_parameters(model)


def _plot(histories: dict[str, History], path: Path) -> Path:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, (name, history) in enumerate(histories.items()):
        color = f"C{i}"  # one colour per model in both panels
        epochs = [row["epoch"] for row in history.rows]
        ax_loss.plot(
            epochs,
            [row["train_loss"] for row in history.rows],
            "-o",
            color=color,
            label=f"{name} train",
        )
        ax_loss.plot(
            epochs,
            [row["val_loss"] for row in history.rows],
            "--",
            color=color,
            label=f"{name} val",
        )
        ax_acc.plot(
            epochs,
            [100 * row["val_accuracy"] for row in history.rows],
            "-o",
            color=color,
            label=name,
        )
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (%)", title="accuracy")
    ax_loss.legend(fontsize=8)
    ax_acc.legend(fontsize=8)
    return save_figure(fig, path)


def foundations_section(out_dir: Path, quick: bool) -> str:
    """f = Wx vs f = W2 max(0, W1 x) on MNIST, and the notes' FC / LC / CNN parameter table."""
    data = load_images(FOUNDATIONS_DATA)
    train, val, test = _prepare(data, quick)
    in_features = train[0][0].numel()
    classes = len(data.classes)
    hidden = 64 if quick else 256
    models = {
        "linear": ("f = Wx", MLPConfig(in_features, classes)),
        "2-layer": ("f = W2 max(0, W1 x)", MLPConfig(in_features, classes, hidden=(hidden,))),
    }
    epochs = {"linear": 5 if quick else 4, "2-layer": 5 if quick else 8}
    histories, accuracies, lines = {}, {}, []
    for name, (formula, config) in models.items():
        cfg = TrainConfig(
            epochs=epochs[name],
            batch_size=128,
            lr=2e-3,
            schedule="cosine",
            weight_decay=1e-4,
            device="auto",
            quiet=quick,
        )
        history, scores, seconds, n_params = _train_one(
            name, config, train, val, test, cfg, out_dir / "foundations"
        )
        histories[name], accuracies[name] = history, scores["accuracy"]
        lines.append(
            f"| {name} | `{formula}` | {n_params:,} | {cfg.epochs} | "
            f"{100 * scores['accuracy']:.2f}% | {seconds:.0f} s |"
        )
    curves = _plot(histories, out_dir / "foundations_curves.png")
    verdict = "met" if accuracies["2-layer"] >= TARGET_ACCURACY else "not met"
    size = "x".join(str(s) for s in data.train_x.shape[-2:])
    return "\n".join(
        [
            f"Data: `{data.name}`, {len(train[0]):,} training / {len(val[0]):,} validation / "
            f"{len(test[0]):,} test images of {size} pixels, {classes} classes"
            + (" (quick: a small slice)." if quick else "."),
            "",
            "| model | formula | parameters | epochs | test accuracy | train time |",
            "|---|---|---:|---:|---:|---:|",
            *lines,
            "",
            f"Target for the 2-layer net: test accuracy >= {100 * TARGET_ACCURACY:.1f}% "
            f"({verdict}{', quick budget' if quick else ''}).",
            "",
            f"![learning curves]({curves.name})",
            "",
            "Parameters of one layer on a 1000x1000 image with 1M hidden units (notes: Fully",
            "Connected / Locally Connected / Convolutional Neural Net): `reti params`.",
            "",
            format_params_table(compare_connectivity()),
        ]
    )


SECTIONS: list[tuple[str, Section]] = [
    ("1. Linear score and 2-layer net on MNIST", foundations_section),
    ("2. A CNN from the notes' pattern on MNIST", vision.demo_section),
    ("3. Forecasting a real series with a causal TCN", series.demo_section),
    ("4. A small GPT on Shakespeare, sampled at three temperatures", text.demo_section),
]


def run_demo(
    out_dir: str | Path = "runs/demo",
    quick: bool = False,
    sections: Sequence[tuple[str, Section]] | None = None,
) -> Path:
    """Run every section in order, writing ``out_dir/report.md`` after each; returns its path.

    Raises:
        ConfigError: ``out_dir`` exists and is not a folder.
    """
    out = ensure_dir(out_dir)
    report = out / "report.md"
    parts = [
        "# reti demo",
        "",
        "The course notes, trained and measured"
        + (" (quick mode: small budgets)." if quick else "."),
    ]
    for title, section in SECTIONS if sections is None else sections:
        start = time.perf_counter()
        body = section(out, quick)
        seconds = time.perf_counter() - start
        parts += ["", f"## {title}", "", body.strip(), "", f"_Section time: {seconds:.0f} s._"]
        atomic_write_text(report, "\n".join(parts) + "\n")
    return report
