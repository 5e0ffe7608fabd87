"""Forecasting: a causal network beside the naive and seasonal-naive forecasts.

notes: Causal Model (option A: a multi-horizon head; option B: next-step training and an
autoregressive rollout), Autoregressive Generation. Scores on the test part from every origin:
MAE, RMSE, sMAPE and MASE (test MAE over the in-sample seasonal-naive MAE).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reti import metrics as M
from reti.data.series import load_series, make_windows, split_time
from reti.errors import CheckpointError, ConfigError, DataError
from reti.jsonio import Field, check_schema
from reti.layers import StandardScaler
from reti.runtime import resolve_device
from reti.tasks.runs import read_run
from reti.tasks.series.common import (
    METHODS,
    SECTION,
    SeriesConfig,
    SeriesModel,
    SeriesResult,
    base,
    build_net,
    fit_series,
    model_config,
)
from reti.train import RunOptions, load_weights


def window_for(cfg: SeriesConfig, season: int) -> int:
    """The given window, or two seasons, at least 24 steps and the TCN's receptive field."""
    rf = 1 + 2 * (cfg.kernel_size - 1) * (2**cfg.levels - 1) if cfg.model == "tcn" else 0
    return cfg.window or max(2 * season, 24, rf)


@torch.no_grad()
def predict(
    net: nn.Module, x: torch.Tensor, steps: int, method: str, relative: bool = True
) -> torch.Tensor:
    """Forecast ``steps`` ahead of each window x (B, W, C) (scaled units) -> (B, steps, C).

    "rollout" feeds each next-step prediction back (notes: Autoregressive Generation);
    "direct" emits the head's horizon at once, and rolls out by whole horizons past it.
    """
    net.eval()
    width, preds, done = x.shape[1], [], 0
    while done < steps:
        b = base(x, relative)
        out = net(x - b)
        step = (out[:, -1:] if method == "rollout" else out) + b  # (B, k, C)
        preds.append(step)
        done += step.shape[1]
        x = torch.cat([x, step], dim=1)[:, -width:]
    return torch.cat(preds, dim=1)[:, :steps]


def seasonal_naive(history: torch.Tensor, steps: int, m: int) -> torch.Tensor:
    """y_hat_{t+h} = y_{t+h-m*ceil(h/m)} for h = 1..steps (m = 1: the naive forecast).

    Shape: history (B, T, C) with T >= m -> (B, steps, C)."""
    idx = [history.shape[1] - m + (h % m) for h in range(steps)]
    return history[:, idx]


def _scores(truth, pred, train_values, m) -> dict[str, float]:
    scale = sum(M.naive_scale(train_values[:, c], m) for c in range(train_values.shape[1]))
    scale /= train_values.shape[1]
    mae = M.mae(truth, pred)
    return {"mae": mae, "rmse": M.rmse(truth, pred), "smape": M.smape(truth, pred),
            "mase": mae / scale if scale > 0 else math.nan}  # fmt: skip


def _train_one(cfg, z, scaler, tr, va, window, method, meta, opts: RunOptions):
    head, horizon = ("forecast", cfg.horizon) if method == "direct" else ("sequence", 1)
    c = z.shape[1]
    net = build_net(cfg, c, c, head, horizon, window)
    rf = getattr(net, "receptive_field", 0)
    if window < rf and cfg.window is not None:
        raise DataError(f"window {window} is shorter than the model's receptive field {rf}")

    def pairs(part: torch.Tensor):
        h = cfg.horizon if method == "direct" else 1
        x, y = make_windows(part, window, h, cfg.stride)
        if method == "rollout":  # option B: Y = the window shifted one step, [x_1 ... x_n]
            y = torch.cat([x[:, 1:], y], dim=1)
        b = base(x, cfg.relative)
        return x - b, y - b

    x, y = pairs(z[tr])
    val_part = z[max(va.start - window, 0) : va.stop]
    enough = va.stop - va.start >= cfg.horizon and len(val_part) > window + cfg.horizon
    val = pairs(val_part) if enough else None
    return fit_series(SeriesModel(net, scaler), x, y, cfg, F.mse_loss, meta, opts, val)


def run(cfg: SeriesConfig, opts: RunOptions) -> SeriesResult:
    """Train the forecaster(s) of ``cfg`` and score them and the baselines on the test part."""
    data = load_series(cfg.data, cfg.column_list, cfg.time_column, cfg.missing)
    values, m = data.values, cfg.season or data.season
    tr, va, te = split_time(len(values), cfg.val, cfg.test)
    window = window_for(cfg, m)
    if tr.stop < window + cfg.horizon:
        raise DataError(
            f"training part has {tr.stop} steps, shorter than window + horizon = "
            f"{window} + {cfg.horizon}; use a smaller --window or --horizon"
        )
    if te.stop - te.start < cfg.horizon:
        raise DataError(
            f"test part has {te.stop - te.start} steps, fewer than the horizon {cfg.horizon}"
        )
    scaler = StandardScaler().fit(values[tr])
    z = scaler.transform(values)
    origins = torch.arange(te.start, te.stop - cfg.horizon + 1)
    hist_z = torch.stack([z[o - window : o] for o in origins])  # (N, W, C)
    reach = max(window, m if te.start >= m else 1)  # baselines look back one season
    hist_v = torch.stack([values[o - reach : o] for o in origins])
    truth = torch.stack([values[o : o + cfg.horizon] for o in origins])  # (N, H, C)
    baselines = {"naive": seasonal_naive(hist_v, cfg.horizon, 1)}
    if m > 1 and te.start >= m:
        baselines[f"seasonal naive (m={m})"] = seasonal_naive(hist_v, cfg.horizon, m)
    methods = [cfg.method] + ([x for x in METHODS if x != cfg.method] if cfg.compare else [])
    models, first = {}, None
    for i, method in enumerate(methods):
        meta = model_config(cfg, values.shape[1], method=method, window=window, season=m)
        rd = opts.run_dir if i == 0 or opts.run_dir is None else opts.run_dir / f"compare-{method}"
        hist = _train_one(cfg, z, scaler, tr, va, window, method, meta, _with_dir(opts, rd))
        pred = scaler.inverse_transform(
            predict(hist.model.net, hist_z, cfg.horizon, method, cfg.relative)
        )
        name = f"{cfg.model} ({'direct head' if method == 'direct' else 'autoregressive rollout'})"
        models[name] = _scores(truth, pred, values[tr], m)
        first = hist if i == 0 else first
    return SeriesResult(
        "forecast", cfg.data, models,
        {k: _scores(truth, p, values[tr], m) for k, p in baselines.items()}, first,
        info={"season": m, "window": window, "test_origins": len(origins)},
    )  # fmt: skip


def _with_dir(opts: RunOptions, run_dir: Path | None) -> RunOptions:
    return replace(opts, run_dir=run_dir)


def load_run(path: str | Path) -> tuple[SeriesModel, SeriesConfig, dict[str, Any]]:
    """Rebuild a trained forecaster (network + scaler) from a run folder or checkpoint."""
    run_meta = read_run(path)
    info = run_meta.model_config
    if SECTION not in info:
        raise ConfigError(f"{path} is not a series run (its checkpoint has no series config)")
    source = f"{run_meta.checkpoint / 'meta.json'} model_config"
    check_schema(info, {SECTION: dict}, source, error=CheckpointError)
    try:
        cfg = SeriesConfig(**info[SECTION])
    except TypeError as exc:
        raise ConfigError(f"{path}: a malformed series config ({exc})") from None
    if cfg.task != "forecast":
        raise ConfigError(f"{path} holds a {cfg.task!r} model; forecasting needs a forecast run")
    schema = {"channels": Field(int, min=1), "window": Field(int, min=1),
              "season": Field(int, min=1, nullable=True), "method": str}  # fmt: skip
    check_schema(info, schema, source, error=CheckpointError)
    c, method, window = info["channels"], info["method"], info["window"]
    head, horizon = ("forecast", cfg.horizon) if method == "direct" else ("sequence", 1)
    model = SeriesModel(build_net(cfg, c, c, head, horizon, window), StandardScaler(c))
    load_weights(model, run_meta.checkpoint)
    return model, cfg, info


def forecast_from_run(path: str | Path, steps: int, device: str = "auto") -> dict[str, Any]:
    """Forecast ``steps`` ahead from the start of the test part of a run's own series (the
    network runs on ``device``).

    Returns history, forecast, truth (as far as the series goes) and the seasonal-naive
    forecast, all (n, C) in the data's units.
    """
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    model, cfg, info = load_run(path)
    values = load_series(cfg.data, cfg.column_list, cfg.time_column, cfg.missing).values
    _, _, te = split_time(len(values), cfg.val, cfg.test)
    window, m = info["window"], info["season"]
    history = values[: te.start]
    dev = resolve_device(device)
    z = model.scaler.transform(history[-window:])[None].to(dev)
    pred = model.scaler.inverse_transform(
        predict(model.net.to(dev), z, steps, info["method"], cfg.relative).cpu()
    )
    naive_m = m if len(history) >= m else 1
    return {"history": history, "forecast": pred[0], "truth": values[te.start : te.start + steps],
            "seasonal_naive": seasonal_naive(history[None], steps, naive_m)[0], "season": m,
            "data": cfg.data, "method": info["method"]}  # fmt: skip
