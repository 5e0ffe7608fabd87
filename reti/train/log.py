"""What a run leaves to read: metrics.csv, metrics.jsonl, config.json, curves.png; its progress.

The metric files are rewritten whole (through ``reti.io``'s atomic write) after every epoch:
runs have tens of rows, so this costs nothing, and a crash or a resume can never leave a
half-written line or a duplicated epoch.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reti.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from reti.train.progress import LineProgress, ProgressPrinter, progress

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "LineProgress",
    "ProgressPrinter",
    "curves_figure",
    "progress",
    "read_rows",
    "save_curves",
    "write_config",
    "write_rows",
]

METRICS_CSV = "metrics.csv"
METRICS_JSONL = "metrics.jsonl"
CONFIG_JSON = "config.json"
CURVES_PNG = "curves.png"


def plain(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_rows(run_dir: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (one dict per epoch) as CSV (union of columns, first-seen order) and JSONL."""
    run_dir = Path(run_dir)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    atomic_write_text(run_dir / METRICS_CSV, buf.getvalue())
    lines = [json.dumps({k: plain(v) for k, v in row.items()}) for row in rows]
    atomic_write_text(run_dir / METRICS_JSONL, "".join(line + "\n" for line in lines))


def write_config(run_dir: str | os.PathLike, config: dict[str, Any]) -> Path:
    """The resolved configuration of the run (train config, model config, sizes) as JSON."""
    return atomic_write_json(Path(run_dir) / CONFIG_JSON, config)


def read_rows(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of ``metrics.jsonl`` (empty when the run has none yet)."""
    path = Path(run_dir) / METRICS_JSONL
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _series(source) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(step rows, epoch rows) of a History or of one list of rows."""
    if hasattr(source, "steps") and hasattr(source, "rows"):
        return list(source.steps or []), list(source.rows or [])
    return list(source or []), []


def _points(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(x, y) of the rows that hold ``key``: x is the step (the epoch for rows without one)."""
    xs, ys = [], []
    for row in rows:
        value = row.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            xs.append(row.get("step", row.get("epoch", len(xs) + 1)))
            ys.append(value)
    return xs, ys


def curves_figure(source: Any) -> Figure:
    """Learning curves against the optimizer step: train and validation loss in one panel, each
    other ``val_*`` metric in its own. ``source`` is a ``History`` (its step rows, with the
    epoch rows filling in any curve the step rows lack) or a list of rows holding ``step``."""
    from matplotlib.figure import Figure  # here: importing reti stays quick

    steps, epochs = _series(source)
    everything = steps + epochs
    keys = [k for row in everything for k in row if k.startswith("val_") and k != "val_loss"]
    metrics = list(dict.fromkeys(keys))
    fig = Figure(figsize=(4.2 * (1 + len(metrics)), 3.2), layout="constrained")
    axes = fig.subplots(1, 1 + len(metrics), squeeze=False)[0]
    by_step = any("step" in r for r in everything)
    xlabel = "optimizer step" if by_step else "epoch"

    def draw(ax, key: str, label: str | None, color: str | None = None) -> None:
        xs, ys = _points(steps, key)
        if not xs:
            xs, ys = _points(epochs, key)
        if xs:
            ax.plot(xs, ys, marker="o" if len(xs) <= 30 else None, ms=3, label=label, color=color)

    draw(axes[0], "train_loss", "train")
    draw(axes[0], "val_loss", "validation")
    axes[0].set_xlabel(xlabel)
    axes[0].set_ylabel("loss")
    axes[0].set_title("loss")
    if axes[0].lines:
        axes[0].legend()
    for ax, key in zip(axes[1:], metrics):
        draw(ax, key, None, "tab:green")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(key[4:])
        ax.set_title(f"validation {key[4:]}")
    return fig


def save_curves(run_dir: str | os.PathLike, source: Any) -> Path | None:
    """curves.png of ``curves_figure(source)`` in ``run_dir`` (atomic); None without rows."""
    steps, epochs = _series(source)
    if not steps and not epochs:
        return None
    buf = io.BytesIO()
    curves_figure(source).savefig(buf, format="png", dpi=100)
    return atomic_write_bytes(Path(run_dir) / CURVES_PNG, buf.getvalue())
