"""Pictures of series runs as matplotlib ``Figure`` objects (the caller saves them)."""

from __future__ import annotations

from typing import Any

import torch
from matplotlib.figure import Figure

from reti.tasks.series.common import AnomalyTrace


def forecast_figure(fc: dict[str, Any], title: str = "") -> Figure:
    """The last part of the history, the forecast, the truth and seasonal naive
    (``fc``: what ``forecast_from_run`` returns)."""
    hist, n = fc["history"][:, 0], len(fc["history"])
    shown = max(len(fc["forecast"]) * 3, 4 * fc["season"], 48)
    steps = torch.arange(n, n + len(fc["forecast"]))
    fig = Figure(figsize=(9, 3.5))
    ax = fig.subplots()
    ax.plot(range(max(n - shown, 0), n), hist[-shown:], color="black", lw=1, label="history")
    if len(fc["truth"]):
        ax.plot(steps[: len(fc["truth"])], fc["truth"][:, 0], color="tab:green", label="truth")
    ax.plot(steps, fc["seasonal_naive"][:, 0], "--", color="gray", label="seasonal naive")
    ax.plot(steps, fc["forecast"][:, 0], color="tab:red", label=f"forecast ({fc['method']})")
    ax.set(title=title or f"{fc['data']}: forecast", xlabel="step", ylabel="value (data units)")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def anomaly_figure(trace: AnomalyTrace, data: str) -> Figure:
    """The test series with the true anomalies shaded and the flagged points in red."""
    values, flags, labels = trace.values, trace.flags, trace.labels
    steps = torch.arange(len(values))
    fig = Figure(figsize=(11, 3.5))
    ax = fig.subplots()
    ax.plot(steps, values, color="black", lw=0.6, label="test series")
    ax.fill_between(steps, values.min(), values.max(), where=labels.bool(), color="tab:orange",
                    alpha=0.3, label="true anomaly")  # fmt: skip
    ax.scatter(steps[flags], values[flags], s=10, color="tab:red", label="flagged", zorder=3)
    ax.set(title=f"{data}: flagged points", xlabel="step", ylabel="value (data units)")
    ax.legend(loc="upper right", fontsize=8)
    return fig
