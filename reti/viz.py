"""Pictures people would rather look at than numbers: image grids, filters, feature maps,
confusion matrices, attention maps, forecasts and flagged anomalies.

Every drawing has two forms: ``*_figure(...)`` returns a ``matplotlib.figure.Figure`` (shown
inline by Jupyter; no pyplot, so importing reti never touches matplotlib's backend or rcParams)
and ``save_*(..., path)`` writes that figure as a PNG with the figure's own ``savefig``.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from reti.errors import ShapeError
from reti.io import atomic_write_bytes


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Render a figure to PNG bytes with its own ``savefig`` and write them atomically.

    A figure made through pyplot (by code outside reti) is also closed, so pyplot does not
    keep it alive; pyplot is never imported here.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and getattr(fig, "number", None) is not None:
        pyplot.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _to_display(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) float in [0, 1] or uint8 -> (B, H, W, C) float in [0, 1] on the CPU."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ShapeError(f"images must be (B, 1|3, H, W), got {tuple(images.shape)}")
    x = images.detach().to("cpu")
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    return x.clamp(0, 1).permute(0, 2, 3, 1)


def image_grid_figure(
    rows: list[torch.Tensor],
    row_titles: list[str] | None = None,
    col_titles: list[str] | None = None,
    scale: float = 1.2,
) -> Figure:
    """Each ``(B, C, H, W)`` batch in ``rows`` as one row of a grid of images."""
    if not rows:
        raise ShapeError("an image grid needs at least one row of images")
    shown = [_to_display(r).numpy() for r in rows]
    n_cols = max(r.shape[0] for r in shown)
    fig = Figure(figsize=(scale * n_cols, scale * len(shown)))
    axes = fig.subplots(len(shown), n_cols, squeeze=False)
    for i, row in enumerate(shown):
        for j in range(n_cols):
            ax = axes[i][j]
            ax.axis("off")
            if j < row.shape[0]:
                img = row[j]
                if img.shape[-1] == 1:
                    ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1)
                else:
                    ax.imshow(img)
            if i == 0 and col_titles and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=7)
        if row_titles and i < len(row_titles):
            axes[i][0].text(
                -0.1,
                0.5,
                row_titles[i],
                transform=axes[i][0].transAxes,
                ha="right",
                va="center",
                fontsize=8,
            )
    return fig


def save_image_grid(
    rows: list[torch.Tensor],
    path: str | os.PathLike,
    row_titles: list[str] | None = None,
    col_titles: list[str] | None = None,
    scale: float = 1.2,
) -> Path:
    """``image_grid_figure`` saved as a PNG at ``path``."""
    return save_figure(image_grid_figure(rows, row_titles, col_titles, scale), path)


# --- vision: filters, feature maps, confusion matrix (notes: VGG-16, low / mid / high features) --


def _unit(t: torch.Tensor) -> torch.Tensor:
    """Rescale each item of the first dimension to [0, 1] on its own (a flat item stays grey)."""
    flat = t.detach().float().cpu().flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    return ((flat - lo) / (hi - lo).clamp_min(1e-12)).view_as(t)


def filters_figure(weight: torch.Tensor, max_filters: int = 64, title: str = "") -> Figure:
    """A conv layer's filters ``(O, C, kh, kw)`` as a grid: RGB when C == 3, else the
    channel mean in grey; each filter rescaled to [0, 1] on its own."""
    if weight.dim() != 4:
        raise ShapeError(f"filters must be (out, in, kh, kw), got {tuple(weight.shape)}")
    w = weight.detach().float().cpu()[:max_filters]
    w = w if w.shape[1] == 3 else w.mean(1, keepdim=True)
    w = _unit(w).permute(0, 2, 3, 1).numpy()  # (O, C, kh, kw) -> (O, kh, kw, C)
    cols = min(8, len(w))
    rows = -(-len(w) // cols)
    fig = Figure(figsize=(1.0 * cols, 1.0 * rows + 0.3))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(w):
            ax.imshow(w[i][..., 0] if w.shape[-1] == 1 else w[i], cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def save_filters(
    weight: torch.Tensor, path: str | os.PathLike, max_filters: int = 64, title: str = ""
) -> Path:
    """``filters_figure`` saved as a PNG at ``path``."""
    return save_figure(filters_figure(weight, max_filters, title), path)


def conv_feature_maps(
    model: torch.nn.Module, image: torch.Tensor
) -> list[tuple[str, torch.Tensor]]:
    """Outputs ``(C, H, W)`` of the first, middle and last conv layers for one image (1, C, H, W):
    the low-, mid- and high-level features of the notes. Runs the model in eval mode."""
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise ShapeError("the model has no Conv2d layer to draw feature maps from")
    picks = {"low": convs[0], "mid": convs[len(convs) // 2], "high": convs[-1]}
    found: dict[str, torch.Tensor] = {}

    def keeper(level: str):
        def hook(module, inputs, output) -> None:  # returns None: the output is not replaced
            found.setdefault(level, output[0].detach())

        return hook

    hooks = [module.register_forward_hook(keeper(lvl)) for lvl, (_, module) in picks.items()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(image)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    shown, seen = [], set()
    for level, (name, _) in picks.items():
        if name not in seen:  # a net with one or two convs has fewer distinct levels
            seen.add(name)
            shown.append((f"{level}: {name}", found[level].cpu()))
    return shown


def feature_maps_figure(
    maps: list[tuple[str, torch.Tensor]],
    image: torch.Tensor | None = None,
    per_row: int = 8,
    input_label: str = "input",
) -> Figure:
    """One row per ``(title, (C, H, W))`` entry: its first ``per_row`` channels, each rescaled
    to [0, 1]; the input ``image`` (C, H, W) first when given."""
    if not maps:
        raise ShapeError("save_feature_maps needs at least one feature map")
    rows = len(maps) + (image is not None)
    fig = Figure(figsize=(1.2 * per_row, 1.3 * rows))
    axes = fig.subplots(rows, per_row, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    r = 0
    if image is not None:
        shown = _to_display(image[None])[0].numpy()
        axes[0][0].imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray")
        axes[0][0].set_title(input_label, fontsize=8)
        r = 1
    for title, fmap in maps:
        channels = _unit(fmap[:per_row]).numpy()
        for j, channel in enumerate(channels):
            axes[r][j].imshow(channel, cmap="viridis", vmin=0, vmax=1)
        axes[r][0].set_title(title, fontsize=8, loc="left")
        r += 1
    return fig


def save_feature_maps(
    maps: list[tuple[str, torch.Tensor]],
    path: str | os.PathLike,
    image: torch.Tensor | None = None,
    per_row: int = 8,
) -> Path:
    """``feature_maps_figure`` saved as a PNG at ``path``."""
    return save_figure(feature_maps_figure(maps, image, per_row), path)


def confusion_figure(
    matrix: torch.Tensor,
    classes: list[str],
    title: str = "",
    labels: tuple[str, str] = ("predicted", "true"),
) -> Figure:
    """A (K, K) confusion matrix (rows: true class, columns: predicted) with its counts."""
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(classes):
        raise ShapeError(
            f"confusion matrix must be (K, K) with K = {len(classes)} classes, "
            f"got {tuple(matrix.shape)}"
        )
    m = matrix.detach().cpu().long().numpy()
    k = len(classes)
    size = max(3.0, 0.45 * k + 1.5)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(m, cmap="Blues")
    if k <= 20:
        ax.set_xticks(range(k), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(k), classes, fontsize=7)
        peak = int(m.max()) or 1
        for i in range(k):
            for j in range(k):
                color = "white" if m[i, j] > peak / 2 else "black"
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=6, color=color)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or f"confusion matrix ({int(m.sum())} images)", fontsize=9)
    return fig


def save_confusion_matrix(
    matrix: torch.Tensor, classes: list[str], path: str | os.PathLike, title: str = ""
) -> Path:
    """``confusion_figure`` saved as a PNG at ``path``."""
    return save_figure(confusion_figure(matrix, classes, title), path)


# --- text: attention maps (notes: Self-Attention) ------------------------------------------------
def attention_maps_figure(maps: list[torch.Tensor], labels: list[str], note: str = "") -> Figure:
    """One panel per (layer, head): who attends to whom. ``maps``: one (1, nh, T, T) tensor of
    attention weights per layer; ``labels``: the T tokens as text (shown up to 24 tokens)."""
    n_layer, n_head = len(maps), maps[0].shape[1]
    fig = Figure(figsize=(2.6 * n_head, 2.6 * n_layer), layout="tight")
    axes = fig.subplots(n_layer, n_head, squeeze=False)
    ticks = range(len(labels)) if len(labels) <= 24 else []
    for layer, weights in enumerate(maps):
        for head in range(n_head):
            ax = axes[layer][head]
            ax.imshow(weights[0, head].float().cpu().numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer + 1} head {head + 1}", fontsize=8)
            ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=6, rotation=90)
            ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=6)
            ax.set(xlabel="key token", ylabel="query token")
    fig.suptitle(f"attention weights (rows: queries, columns: keys), {note}".rstrip(", "))
    return fig


# --- series: a forecast, flagged anomalies (notes: Convoluzioni 1D, applications) ---------------
def forecast_figure(fc: dict[str, Any], title: str = "") -> Figure:
    """The last part of the history, the forecast, the truth and seasonal naive
    (``fc``: what ``reti.tasks.series.forecast_from_run`` returns)."""
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


def anomaly_figure(trace: Any, data: str) -> Figure:
    """The test series with the true anomalies shaded and the flagged points in red
    (``trace``: ``values``, ``flags`` and ``labels`` of the test part, as
    ``reti.tasks.series.AnomalyTrace`` holds them)."""
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
