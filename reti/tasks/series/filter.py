"""Learned filtering: one centred convolution learns to denoise, beside a moving average.

notes: Convoluzioni 1D (applications: signal processing), the 1D convolution
H_i = sum_{j=-k..k} W_{j+k} X_{i+j}. Gaussian noise of std ``noise`` (in scaled units, drawn
from the run's seed) is added to the series; the filter learns to map noisy to clean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reti import metrics as M
from reti.data.series import load_series, make_windows, split_time
from reti.errors import ConfigError
from reti.layers import StandardScaler
from reti.runtime import make_generator
from reti.tasks.series.common import (
    SeriesConfig,
    SeriesModel,
    SeriesResult,
    fit_series,
    model_config,
)
from reti.train import RunOptions


class LearnedFilter(nn.Module):
    """One centred 1D convolution, the notes' H_i = sum_{j=-k..k} W_{j+k} X_{i+j} (phi = id).

    Shape: (B, T, 1) -> (B, T, 1)."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, width, padding=width // 2, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # through (B, 1, T)


def run(cfg: SeriesConfig, opts: RunOptions) -> SeriesResult:
    """Train the filter on the noisy training part; score it, the noisy input and a moving
    average of the same width against the clean test part (RMSE, MAE)."""
    if cfg.filter_width % 2 == 0:
        raise ConfigError(f"filter_width must be odd (a centred filter), got {cfg.filter_width}")
    data = load_series(cfg.data, cfg.column_list, cfg.time_column, cfg.missing)
    values = data.values[:, :1]
    tr, _, te = split_time(len(values), 0.0, cfg.test)
    scaler = StandardScaler().fit(values[tr])
    clean = scaler.transform(values)
    noise = torch.randn(clean.shape, generator=make_generator(cfg.train.seed)) * cfg.noise
    noisy = clean + noise
    window = cfg.window or 64
    x, _ = make_windows(noisy[tr], window, 1, cfg.stride)
    y, _ = make_windows(clean[tr], window, 1, cfg.stride)
    model = SeriesModel(LearnedFilter(cfg.filter_width), scaler)
    hist = fit_series(model, x, y, cfg, F.mse_loss, model_config(cfg, 1), opts)
    with torch.no_grad():
        learned = hist.model.net(noisy[None])[0]
    kernel = torch.full((1, 1, cfg.filter_width), 1.0 / cfg.filter_width)
    pad = F.pad(noisy.T[None], (cfg.filter_width // 2,) * 2, mode="replicate")
    moving = F.conv1d(pad, kernel)[0].T
    truth = values[te]

    def err(s: torch.Tensor) -> dict[str, float]:
        back = scaler.inverse_transform(s)[te]
        return {"rmse": M.rmse(truth, back), "mae": M.mae(truth, back)}

    return SeriesResult(
        "filter", cfg.data, {f"learned filter (width {cfg.filter_width})": err(learned)},
        {"noisy input": err(noisy), "moving average": err(moving)}, hist,
        info={"noise": cfg.noise},
    )  # fmt: skip
