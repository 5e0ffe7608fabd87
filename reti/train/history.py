"""``History``: what ``fit`` returns (rows, best and final row, the trained model), its learning
curves as a Figure (``plot()``) and its notebook view (``_repr_html_``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from torch import nn

from reti.html import block, cell, figure_img, head_and_tail, table


@dataclass(repr=False)  # the default repr would print every row
class History:
    """What ``fit`` returns: one row per epoch (``rows``), the step-level rows (``steps``: train
    rows every ``log_every`` steps and evaluation rows every ``eval_every`` steps, in the order
    they were logged, each with its ``step``), the best and last epoch rows, and the model."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    stopped_early: bool = False
    stopped: bool = False  # a RunControl asked the run to stop
    run_dir: Path | None = None
    model: nn.Module | None = None

    def __repr__(self) -> str:
        last = self.final or {}
        final = {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()}
        return (
            f"History(epochs={len(self.rows)}, step_rows={len(self.steps)}, final={final}, "
            f"run_dir={str(self.run_dir) if self.run_dir else None!r})"
        )

    def plot(self) -> Figure:
        """The learning curves as a Figure: losses in one panel, each ``val_*`` metric in its
        own, against the step; a curve the step rows lack is drawn from the epoch rows."""
        return curves_figure(self.steps, self.rows)

    def _repr_html_(self) -> str:
        """Jupyter: the last row's figures, a short table (first and last rows) and the curves."""
        if not self.rows:
            return block("History: no epoch finished")
        last = self.final or self.rows[-1]
        summary = ", ".join(f"{k} {cell(v)}" for k, v in last.items() if k != "epoch")
        title = f"History: {len(self.rows)} epoch(s), {len(self.steps)} step row(s)"
        parts = [f"<p>final: {summary}</p>", table(head_and_tail(self.rows))]
        if self.stopped or self.stopped_early:
            parts.insert(0, "<p>stopped early</p>")
        if self.run_dir is not None:
            parts.append(f"<p>run folder: <code>{cell(self.run_dir)}</code></p>")
        return block(title, *parts, figure_img(self.plot()))


def _points(rows: list[dict[str, Any]], key: str, x_key: str) -> list[tuple[Any, Any]]:
    return [(r[x_key], r[key]) for r in rows if r.get(key) is not None and x_key in r]


def curves_figure(steps: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Figure:
    """Train and validation loss in one panel and each ``val_*`` metric in its own, against
    ``step`` (``epoch`` for rows without steps); each curve from the step rows when they hold
    it, else from the epoch rows."""
    everything = [*steps, *rows]
    x_key = "step" if everything and all("step" in r for r in everything) else "epoch"
    metrics = sorted({k for r in everything for k in r if k.startswith("val_") and k != "val_loss"})
    fig = Figure(figsize=(4.2 * (1 + len(metrics)), 3.2), layout="tight")
    axes = fig.subplots(1, 1 + len(metrics), squeeze=False)[0]

    def draw(ax, key: str, label: str | None, color: str | None = None) -> None:
        points = _points(steps, key, x_key) or _points(rows, key, x_key)
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o" if len(xs) <= 40 else None, label=label, color=color)

    draw(axes[0], "train_loss", "train")
    draw(axes[0], "val_loss", "validation")
    axes[0].set(xlabel=x_key, ylabel="loss", title="loss")
    if axes[0].lines:
        axes[0].legend()
    for ax, key in zip(axes[1:], metrics):
        draw(ax, key, None, "tab:green")
        ax.set(xlabel=x_key, ylabel=key, title=key)
    return fig
