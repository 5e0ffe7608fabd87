"""Anomaly detection: a causal next-step model flags large errors, beside a z-score detector.

notes: Convoluzioni 1D (applications: anomaly detection), Causal Model (option B). A point is
flagged when its next-step error exceeds the ``quantile`` of the errors on the training part.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from reti import metrics as M
from reti.data.series import load_anomaly, make_windows
from reti.errors import ConfigError
from reti.layers import StandardScaler
from reti.tasks.series.common import (
    AnomalyTrace,
    SeriesConfig,
    SeriesModel,
    SeriesResult,
    base,
    build_net,
    fit_series,
    model_config,
)
from reti.train import RunOptions


@torch.no_grad()
def next_step_errors(net: nn.Module, z: torch.Tensor, window: int, relative: bool) -> torch.Tensor:
    """|x_t - x_hat_t| summed over channels, x_hat_t predicted from the ``window`` steps before
    t by a causal next-step (option B) model, scored in chunks. Shape: (n, C) -> (n,), e_0 = 0."""
    net.eval()
    errors = torch.zeros(len(z))
    for s in range(1, len(z), window):
        ctx = z[max(s - window, 0) : s + window - 1][None]  # (1, <=2W-1, C)
        b = base(ctx[:, : s - max(s - window, 0)], relative)
        pred = net(ctx - b)[0] + b[0]  # position i predicts step i + 1
        first = s - max(s - window, 0) - 1
        target = z[s : s + window]
        errors[s : s + len(target)] = (pred[first : first + len(target)] - target).abs().sum(-1)
    return errors


def _score(labels: torch.Tensor, pred: torch.Tensor) -> dict[str, float]:
    raw = M.precision_recall_f1(labels, pred)
    adj = M.point_adjusted_precision_recall_f1(labels, pred)
    return {**raw, **{f"point-adjusted {k}": v for k, v in adj.items()}, "flagged": int(pred.sum())}


def run(cfg: SeriesConfig, opts: RunOptions) -> SeriesResult:
    """Train a next-step model on the normal training part; flag and score the test part."""
    if cfg.model == "fcn":
        raise ConfigError("anomaly detection scores next-step errors, which needs a causal model "
                          "(tcn or transformer); fcn sees the step it would predict")  # fmt: skip
    train, test = load_anomaly(cfg.data, columns=cfg.column_list)
    scaler = StandardScaler().fit(train.values)
    z_tr, z_te = scaler.transform(train.values), scaler.transform(test.values)
    window = cfg.window or 64
    cfg = replace(cfg, relative=False)
    x, y = make_windows(z_tr, window, 1, cfg.stride)
    net = build_net(cfg, z_tr.shape[1], z_tr.shape[1], "sequence", 1, 2 * window)
    meta = model_config(cfg, z_tr.shape[1], window=window)
    target = torch.cat([x[:, 1:], y], 1)
    hist = fit_series(SeriesModel(net, scaler), x, target, cfg, F.mse_loss, meta, opts)
    # Each part scored on its own: some test files (KDD-TSAD) start over from step 0.
    err_tr = next_step_errors(hist.model.net, z_tr, window, False)[window:]
    err_te = next_step_errors(hist.model.net, z_te, window, False)
    zs_tr, zs_te = z_tr.abs().amax(-1), z_te.abs().amax(-1)  # z-score detector: |x - mu| / sigma
    flags = err_te > torch.quantile(err_tr, cfg.quantile)
    z_flags = zs_te > torch.quantile(zs_tr, cfg.quantile)
    return SeriesResult(
        "anomaly", cfg.data, {f"{cfg.model} next-step error": _score(test.labels, flags)},
        {"z-score": _score(test.labels, z_flags)}, hist,
        info={"window": window, "anomalies": int(test.labels.sum())},
        trace=AnomalyTrace(test.values[:, 0], flags, test.labels),
    )  # fmt: skip
