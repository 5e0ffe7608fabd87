"""The claims' figures, built as ``matplotlib.figure.Figure`` objects (no pyplot, no backend
switch, no global state) and written as PNG next to the report.

Every compared claim's figure ends with one panel per :class:`~reti.claims.stats.Comparison`:
the per-seed values of both arms (a line joins the two values of a seed when they are paired)
and, on a second axis, the mean difference with its 95% interval against the band of no
effect (``±smallest``).
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reti.claims.stats import Comparison
from reti.i18n import text
from reti.io import atomic_write_bytes

Panel = Callable[[Axes], None]


def save(fig: Figure, path: Path) -> Path:
    """Render ``fig`` to PNG with its own ``savefig`` and write it atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())


def comparison_axes(ax: Axes, c: Comparison, lang: str | None) -> None:
    """Per-seed points of both arms (x = 0, 1) and the difference's interval (x = 2.4, right
    axis), with the no-effect band shaded."""
    e = c.effect
    for x, values in ((0, c.a), (1, c.b)):
        ax.scatter([x] * len(values), values, color=f"C{x}", s=14, zorder=3)
        ax.hlines(statistics.fmean(values), x - 0.2, x + 0.2, color=f"C{x}", lw=2)
    if c.interval.paired:
        for va, vb in zip(c.a, c.b):
            ax.plot([0, 1], [va, vb], color="0.6", lw=0.7, zorder=2)
    ax.set_xticks([0, 1, 2.4], [e.a, e.b, text("claims.fig.difference", lang)], fontsize=7)
    ax.tick_params(axis="x", labelrotation=12)
    ax.set_ylabel(e.figure + (f" ({e.unit})" if e.unit else ""), fontsize=8)
    ax.set_xlim(-0.5, 2.9)
    right = ax.twinx()
    iv, s = c.interval, e.smallest
    right.axhspan(-s, s, color="0.85", zorder=0, label=text("claims.fig.band", lang, s=f"{s:g}"))
    right.axhline(0, color="0.5", lw=0.8)
    if c.interval.paired:
        diffs = [va - vb for va, vb in zip(c.a, c.b)]
        right.scatter([2.4] * len(diffs), diffs, color="k", s=10, zorder=3)
    low, high = max(iv.low, -1e9), min(iv.high, 1e9)  # an unbounded interval: drawn off-axis
    right.errorbar(
        [2.4], [iv.diff], yerr=[[iv.diff - low], [high - iv.diff]], fmt="D", color="C3",
        capsize=4, label=text("claims.fig.interval", lang),
    )  # fmt: skip
    span = max(
        abs(iv.diff) * 1.5, s * 2, *(abs(v) * 1.1 for v in (iv.low, iv.high) if abs(v) < 1e9)
    )
    right.set_ylim(-span, span)
    right.set_ylabel(text("claims.fig.difference_axis", lang), fontsize=8)
    right.legend(fontsize=6, loc="lower right")
    ax.set_title(text("claims.fig.verdict", lang, verdict=text(f"verdict.{c.verdict}", lang)),
                 fontsize=8)  # fmt: skip


def claim_figure(
    path: Path,
    panels: Sequence[Panel],
    comparisons: Sequence[Comparison],
    lang: str | None,
    title: str = "",
) -> Path:
    """One row: the claim's own panels, then one panel per comparison; saved as PNG."""
    n = len(panels) + len(comparisons)
    fig = Figure(figsize=(3.6 * n + 0.4, 3.3))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, draw in zip(axes, panels):
        draw(ax)
    for ax, c in zip(axes[len(panels) :], comparisons):
        comparison_axes(ax, c, lang)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def bars(groups: dict[str, list[float]], ylabel: str, title: str = "") -> Panel:
    """A panel: bars of the seed means with every seed drawn as a dot."""

    def draw(ax: Axes) -> None:
        for i, values in enumerate(groups.values()):
            ax.bar(i, statistics.fmean(values), color=f"C{i}", alpha=0.7)
            ax.scatter([i] * len(values), values, color="k", s=10, zorder=3)
        ax.set_xticks(range(len(groups)), list(groups), rotation=15, fontsize=7)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(title, fontsize=9)

    return draw


def lines(
    xs: Sequence, series: dict[str, list[float]], xlabel: str, ylabel: str, title: str = "",
    logy: bool = False,
) -> Panel:  # fmt: skip
    """A panel: one line per entry of ``series`` over ``xs``."""

    def draw(ax: Axes) -> None:
        for name, ys in series.items():
            ax.plot(list(xs)[: len(ys)], ys, marker="o", ms=3, label=name)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)

    return draw
