"""Classifying whole series (UCR/UEA sets) beside the majority class.

notes: Convoluzioni 1D (applications: classification). The scaler is fit per channel over every
step of every training case; scores are accuracy and macro F1 on the test split.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reti import metrics as M
from reti.data.series import load_ucr
from reti.layers import StandardScaler
from reti.tasks.series.common import (
    SeriesConfig,
    SeriesModel,
    SeriesResult,
    build_net,
    fit_series,
    model_config,
)
from reti.train import RunOptions


def run(cfg: SeriesConfig, opts: RunOptions) -> SeriesResult:
    """Train a classifier on the training split; score it and the majority class on the test."""
    data = load_ucr(cfg.data)
    scaler = StandardScaler().fit(data.train_x)
    xtr, xte = scaler.transform(data.train_x), scaler.transform(data.test_x)
    k, c = len(data.classes), xtr.shape[-1]
    model = SeriesModel(build_net(cfg, c, k, "classify", 1, xtr.shape[1]), scaler)
    meta = model_config(cfg, c, classes=data.classes, length=xtr.shape[1])
    hist = fit_series(model, xtr, data.train_y, cfg, F.cross_entropy, meta, opts)
    with torch.no_grad():
        pred = hist.model.eval()(xte).argmax(-1)
    majority = torch.full_like(data.test_y, int(torch.bincount(data.train_y).argmax()))

    def score(p: torch.Tensor) -> dict[str, float]:
        return {"accuracy": M.accuracy(data.test_y, p), "macro_f1": M.macro_f1(data.test_y, p)}

    return SeriesResult("classify", cfg.data, {cfg.model: score(pred)},
                        {"majority class": score(majority)}, hist,
                        info={"classes": list(data.classes)})  # fmt: skip
