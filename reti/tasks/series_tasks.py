"""Series tasks beside forecasting: UCR classification, anomaly detection, learned filtering.

notes: Convoluzioni 1D (applications: classification, anomaly detection, signal processing).
Each returns the same dict as forecasting: metrics of the model and of its baselines (majority
class; a z-score detector; the noisy input and a moving average).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reti import metrics as M
from reti.data.series import load_anomaly, load_series, load_ucr, make_windows, split_time
from reti.errors import ConfigError
from reti.layers import StandardScaler
from reti.runtime import make_generator
from reti.tasks.series import SeriesConfig, SeriesModel, _base, _columns, _fit, _meta, build_net
from reti.train import TrainConfig


def classify(cfg: SeriesConfig, tc: TrainConfig, run_dir: Path | None) -> dict[str, Any]:
    data = load_ucr(cfg.data)
    scaler = StandardScaler().fit(data.train_x)  # per channel, over every step of every case
    xtr, xte = scaler.transform(data.train_x), scaler.transform(data.test_x)
    k, c = len(data.classes), xtr.shape[-1]
    model = SeriesModel(build_net(cfg, c, k, "classify", 1, xtr.shape[1]), scaler)
    meta = _meta(cfg, c, classes=data.classes, length=xtr.shape[1])
    hist = _fit(model, xtr, data.train_y, tc, F.cross_entropy, run_dir, meta)
    with torch.no_grad():
        pred = hist.model.eval()(xte).argmax(-1)
    majority = torch.full_like(data.test_y, int(torch.bincount(data.train_y).argmax()))

    def score(p: torch.Tensor) -> dict[str, float]:
        return {"accuracy": M.accuracy(data.test_y, p), "macro_f1": M.macro_f1(data.test_y, p)}

    return {"task": "classify", "data": cfg.data, "classes": data.classes,
            "models": {cfg.model: score(pred)}, "baselines": {"majority class": score(majority)},
            "trained": hist.model}  # fmt: skip


@torch.no_grad()
def next_step_errors(net: nn.Module, z: torch.Tensor, window: int, relative: bool) -> torch.Tensor:
    """|x_t - x_hat_t| summed over channels, x_hat_t predicted from the ``window`` steps before
    t by a causal next-step (option B) model, scored in chunks. Shape: (n, C) -> (n,), e_0 = 0."""
    net.eval()
    errors = torch.zeros(len(z))
    for s in range(1, len(z), window):
        ctx = z[max(s - window, 0) : s + window - 1][None]  # (1, <=2W-1, C)
        base = _base(ctx[:, : s - max(s - window, 0)], relative)
        pred = net(ctx - base)[0] + base[0]  # position i predicts step i + 1
        first = s - max(s - window, 0) - 1
        target = z[s : s + window]
        errors[s : s + len(target)] = (pred[first : first + len(target)] - target).abs().sum(-1)
    return errors


def anomaly(cfg: SeriesConfig, tc: TrainConfig, run_dir: Path | None) -> dict[str, Any]:
    if cfg.model == "fcn":
        raise ConfigError("anomaly detection scores next-step errors, which needs a causal model "
                          "(tcn or transformer); fcn sees the step it would predict")  # fmt: skip
    train, test = load_anomaly(cfg.data, columns=_columns(cfg))
    scaler = StandardScaler().fit(train.values)
    z_tr, z_te = scaler.transform(train.values), scaler.transform(test.values)
    window = cfg.window or 64
    cfg = replace(cfg, relative=False)
    x, y = make_windows(z_tr, window, 1, cfg.stride)
    net = build_net(cfg, z_tr.shape[1], z_tr.shape[1], "sequence", 1, 2 * window)
    meta = _meta(cfg, z_tr.shape[1], window=window)
    hist = _fit(
        SeriesModel(net, scaler), x, torch.cat([x[:, 1:], y], 1), tc, F.mse_loss, run_dir, meta
    )
    # Each part scored on its own: some test files (KDD-TSAD) start over from step 0.
    err_tr = next_step_errors(hist.model.net, z_tr, window, False)[window:]
    err_te = next_step_errors(hist.model.net, z_te, window, False)
    zs_tr, zs_te = z_tr.abs().amax(-1), z_te.abs().amax(-1)  # z-score detector: |x - mu| / sigma
    flags = err_te > torch.quantile(err_tr, cfg.quantile)
    z_flags = zs_te > torch.quantile(zs_tr, cfg.quantile)

    def score(pred):
        raw = M.precision_recall_f1(test.labels, pred)
        adj = M.point_adjusted_precision_recall_f1(test.labels, pred)
        return {
            **raw,
            **{f"point-adjusted {k}": v for k, v in adj.items()},
            "flagged": int(pred.sum()),
        }

    n_anomalies = int(test.labels.sum())
    return {"task": "anomaly", "data": cfg.data, "window": window, "anomalies": n_anomalies,
            "models": {f"{cfg.model} next-step error": score(flags)},
            "baselines": {"z-score": score(z_flags)}, "trained": hist.model,
            "plot": (test.values[:, 0], flags, test.labels)}  # fmt: skip


class LearnedFilter(nn.Module):
    """One centred 1D convolution, the notes' H_i = sum_{j=-k..k} W_{j+k} X_{i+j} (phi = id).

    Shape: (B, T, 1) -> (B, T, 1)."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, width, padding=width // 2, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # through (B, 1, T)


def filter_task(cfg: SeriesConfig, tc: TrainConfig, run_dir: Path | None) -> dict[str, Any]:
    if cfg.filter_width % 2 == 0:
        raise ConfigError(f"filter_width must be odd (a centred filter), got {cfg.filter_width}")
    data = load_series(cfg.data, _columns(cfg), cfg.time_column, cfg.missing)
    values = data.values[:, :1]
    tr, _, te = split_time(len(values), 0.0, cfg.test)
    scaler = StandardScaler().fit(values[tr])
    clean = scaler.transform(values)
    noise = torch.randn(clean.shape, generator=make_generator(tc.seed)) * cfg.noise
    noisy = clean + noise
    window = cfg.window or 64
    x, _ = make_windows(noisy[tr], window, 1, cfg.stride)
    y, _ = make_windows(clean[tr], window, 1, cfg.stride)
    model = SeriesModel(LearnedFilter(cfg.filter_width), scaler)
    hist = _fit(model, x, y, tc, F.mse_loss, run_dir, _meta(cfg, 1))
    with torch.no_grad():
        learned = hist.model.net(noisy[None])[0]
    kernel = torch.full((1, 1, cfg.filter_width), 1.0 / cfg.filter_width)
    pad = F.pad(noisy.T[None], (cfg.filter_width // 2,) * 2, mode="replicate")
    moving = F.conv1d(pad, kernel)[0].T
    back = scaler.inverse_transform
    truth = values[te]
    err = lambda s: {"rmse": M.rmse(truth, back(s)[te]), "mae": M.mae(truth, back(s)[te])}  # noqa: E731
    return {"task": "filter", "data": cfg.data, "noise": cfg.noise,
            "models": {f"learned filter (width {cfg.filter_width})": err(learned)},
            "baselines": {"noisy input": err(noisy), "moving average": err(moving)},
            "trained": hist.model}  # fmt: skip


def plot_anomalies(result: dict[str, Any], path: str | Path) -> Path:
    """PNG of the test series: true anomalies shaded, flagged points in red."""
    import matplotlib.pyplot as plt

    from reti.viz import save_figure

    values, flags, labels = result["plot"]
    steps = torch.arange(len(values))
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.plot(steps, values, color="black", lw=0.6, label="test series")
    ax.fill_between(steps, values.min(), values.max(), where=labels.bool(), color="tab:orange",
                    alpha=0.3, label="true anomaly")  # fmt: skip
    ax.scatter(steps[flags], values[flags], s=10, color="tab:red", label="flagged", zorder=3)
    ax.set(title=f"{result['data']}: flagged points", xlabel="step")
    ax.legend(loc="upper right", fontsize=8)
    return save_figure(fig, path)
