"""Helpers every claim shares: small real data sets, one training call, the paired test."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from reti.claims.stats import Comparison, Effect, compare_arms
from reti.data.images import load_images
from reti.metrics import sample_accuracy
from reti.train import TrainConfig, evaluate, fit


@lru_cache(maxsize=4)
def image_set(name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(train_x, train_y, test_x, test_y)`` as float in [0, 1], normalised by the train split."""
    data = load_images(name)
    tx, vx = data.train_x.float() / 255.0, data.test_x.float() / 255.0
    mean, std = tx.mean(), tx.std().clamp_min(1e-6)
    return (tx - mean) / std, data.train_y, (vx - mean) / std, data.test_y


def subset(x: torch.Tensor, y: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, ...]:
    """A seeded random subset of ``n`` samples."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)[:n]
    return x[idx], y[idx]


def train_classifier(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    seed: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adamw",
    weight_decay: float = 0.0,
    batch_transform: Callable | None = None,
    loss_fn: Callable | None = None,
    desc: str | None = None,
) -> dict[str, float]:
    """Train with ``reti.train.fit``; return train/test loss and accuracy and the curve."""
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        seed=seed,
        device="cpu",
        quiet=True,
    )
    history = fit(
        model,
        train,
        cfg,
        loss_fn=loss_fn or F.cross_entropy,
        val=test,
        metrics={"acc": sample_accuracy},
        batch_transform=batch_transform,
        progress_desc=desc,
    )
    tr = evaluate(
        history.model,
        train,
        loss_fn=F.cross_entropy,
        metrics={"acc": sample_accuracy},
        device="cpu",
    )
    final = history.final  # fit already scored the test split after the last epoch
    return {
        "train_loss": tr["loss"],
        "train_acc": tr["acc"],
        "test_loss": final["val_loss"],
        "test_acc": final["val_acc"],
        "curve": [row["train_loss"] for row in history.rows],
    }


def paired(effect: Effect, a: list[float], b: list[float], seeds: list[int]) -> Comparison:
    """The effect tested on two arms run on the same seeds (one difference per seed)."""
    return compare_arms(effect, a, b, paired=True, seeds=seeds)
