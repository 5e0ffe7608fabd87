"""What a run leaves to read: metrics.csv, metrics.jsonl, config.json, curves.png, a progress bar.

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
import sys
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from reti.io import atomic_write_bytes, atomic_write_json, atomic_write_text

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


def progress(total: int, desc: str | None, quiet: bool, position_rank: int = 0):
    """A tqdm bar over one epoch's steps; silent when quiet, off rank 0, or stderr is no TTY."""
    disable = quiet or position_rank != 0 or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True)


def save_curves(run_dir: str | os.PathLike, rows: list[dict[str, Any]]) -> Path | None:
    """curves.png: losses (train and val) in one panel, each other ``val_*`` metric in its own."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    metrics = [k for k in rows[-1] if k.startswith("val_") and k != "val_loss"]
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(4.2 * (1 + len(metrics)), 3.2))
    axes = list(axes) if metrics else [axes]
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        values = [r.get(key) for r in rows]
        if any(v is not None for v in values):
            axes[0].plot(epochs, values, marker="o", label=label)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].legend()
    for ax, key in zip(axes[1:], metrics):
        ax.plot(epochs, [r.get(key) for r in rows], marker="o", color="tab:green")
        ax.set_xlabel("epoch")
        ax.set_title(key)
    fig.tight_layout()
    # reti.viz sits on this same level (layering), so the figure is rendered here.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write_bytes(Path(run_dir) / CURVES_PNG, buf.getvalue())
