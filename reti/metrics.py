"""Metrics for forecasting, classification, anomaly detection and language models, as plain
functions.

notes: Convoluzioni 1D (applications: forecasting, classification, anomaly detection); SPEC 4.
Arguments follow the ``(y_true, y_pred)`` order; inputs may be tensors, arrays or lists and are
compared as float64. Every function returns a Python float (or a dict of floats).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from reti.errors import DataError, ShapeError

ArrayLike = torch.Tensor | Sequence[float]


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.as_tensor(y_true, dtype=torch.float64).flatten()
    b = torch.as_tensor(y_pred, dtype=torch.float64).flatten()
    if a.shape != b.shape:
        raise ShapeError(
            f"y_true and y_pred must have the same size, got {a.numel()} and {b.numel()}"
        )
    if a.numel() == 0:
        raise DataError("metrics need at least one value, got empty y_true")
    return a, b


# -- language models ---------------------------------------------------------------------------


def bits_per_byte(nats: float, n_bytes: int) -> float:
    """Total loss in nats over the predicted tokens / their UTF-8 bytes / ln 2: comparable across
    tokenizers, which predict the same bytes in a different number of steps (notes: Text
    Embeddings)."""
    return nats / max(n_bytes, 1) / math.log(2)


# -- forecasting -----------------------------------------------------------------------------


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error: mean |y - y_hat|."""
    a, b = _pair(y_true, y_pred)
    return (a - b).abs().mean().item()


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error: sqrt(mean (y - y_hat)^2)."""
    a, b = _pair(y_true, y_pred)
    return (a - b).square().mean().sqrt().item()


def naive_scale(y_train: ArrayLike, m: int = 1) -> float:
    """In-sample MAE of the seasonal-naive forecast y_hat_t = y_{t-m} (MASE's denominator)."""
    if m < 1:
        raise DataError(f"seasonal period m must be >= 1, got {m}")
    train = torch.as_tensor(y_train, dtype=torch.float64).flatten()
    if train.numel() <= m:
        raise DataError(f"MASE needs more than m={m} training values, got {train.numel()}")
    return (train[m:] - train[:-m]).abs().mean().item()


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, m: int = 1) -> float:
    """Mean absolute scaled error: MAE / mean_t |y_t - y_{t-m}| over the training part.

    Hyndman & Koehler 2006. Below 1: better than the in-sample seasonal-naive forecast.

    Raises:
        DataError: the training part is constant (the scale is zero) or not longer than m.
    """
    scale = naive_scale(y_train, m)
    if scale == 0.0:
        raise DataError("MASE is undefined: the training series is constant (naive scale is 0)")
    return mae(y_true, y_pred) / scale


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent: 100/n sum 2|y - y_hat| / (|y| + |y_hat|), with 0/0 taken as 0."""
    a, b = _pair(y_true, y_pred)
    den = a.abs() + b.abs()
    ratio = torch.where(den > 0, 2 * (a - b).abs() / den.clamp_min(1e-300), torch.zeros_like(den))
    return 100.0 * ratio.mean().item()


# -- classification --------------------------------------------------------------------------


def sample_accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per sample, 1.0 where the top class is the target (soft labels: their top class); the
    trainer averages it into accuracy. Shape: (B, K), (B,) or (B, K) -> (B,)."""
    target = y.argmax(-1) if y.dim() == logits.dim() else y
    return (logits.argmax(-1) == target).float()


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of labels predicted exactly."""
    a, b = _pair(y_true, y_pred)
    return (a == b).double().mean().item()


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> torch.Tensor:
    """Counts (K, K): row = true class, column = predicted class.

    Raises:
        DataError: a label outside ``0..num_classes-1``.
    """
    a = torch.as_tensor(y_true).long().flatten()
    b = torch.as_tensor(y_pred).long().flatten()
    if a.shape != b.shape:
        raise ShapeError(
            f"y_true and y_pred must have the same size, got {a.numel()} and {b.numel()}"
        )
    for name, labels in (("y_true", a), ("y_pred", b)):
        if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < num_classes:
            raise DataError(f"{name} holds labels outside 0..{num_classes - 1}")
    return torch.bincount(a * num_classes + b, minlength=num_classes**2).view(num_classes, -1)


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean over the classes present in y_true or y_pred of each class's one-vs-rest F1."""
    a, b = _pair(y_true, y_pred)
    scores = [
        precision_recall_f1(a == label, b == label)["f1"]
        for label in torch.unique(torch.cat([a, b]))
    ]
    return sum(scores) / len(scores)


# -- anomaly detection -----------------------------------------------------------------------


def precision_recall_f1(true_mask: ArrayLike, pred_mask: ArrayLike) -> dict[str, float]:
    """Point-wise precision TP/(TP+FP), recall TP/(TP+FN) and F1 = 2PR/(P+R) (0 when undefined)."""
    a, b = _pair(true_mask, pred_mask)
    a, b = a != 0, b != 0
    tp = (a & b).sum().item()
    fp = (~a & b).sum().item()
    fn = (a & ~b).sum().item()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _segments(mask: torch.Tensor) -> list[tuple[int, int]]:
    """Half-open [start, end) runs of True in a 1D bool mask."""
    edges = torch.diff(mask.to(torch.int8), prepend=torch.zeros(1, dtype=torch.int8))
    starts = (edges == 1).nonzero().flatten().tolist()
    ends = (edges == -1).nonzero().flatten().tolist() + [mask.numel()] * mask[-1:].sum().item()
    return list(zip(starts, ends))


def point_adjust(true_mask: ArrayLike, pred_mask: ArrayLike) -> torch.Tensor:
    """Point adjustment (Xu et al. 2018): a true anomalous segment hit once counts as all found.

    Returns the adjusted bool prediction; points outside true segments are left as predicted.
    This variant is generous (it is known to inflate scores) and is always reported by name.
    """
    a, b = _pair(true_mask, pred_mask)
    a, adjusted = a != 0, (b != 0).clone()
    for start, end in _segments(a):
        if adjusted[start:end].any():
            adjusted[start:end] = True
    return adjusted


def point_adjusted_precision_recall_f1(
    true_mask: ArrayLike, pred_mask: ArrayLike
) -> dict[str, float]:
    """Precision, recall and F1 after ``point_adjust`` (named so it is never mistaken for F1)."""
    return precision_recall_f1(true_mask, point_adjust(true_mask, pred_mask))
