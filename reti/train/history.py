"""``History``: what ``fit`` returns (rows, best and final row, the trained model), its learning
curves as a Figure (``plot()``) and its notebook view (``_repr_html_``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from reti.html import block, cell, figure_img, head_and_tail, table
from reti.train import log

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
        return log.curves_figure(self)

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
