"""Notebook views of the data objects: shapes, classes and a few samples as a picture.

``ImageData``, ``SeriesData`` and ``ClassificationData`` call these from their ``_repr_html_``
(and ``__repr__``), so a data set shown in Jupyter is a short summary, never a tensor dump.
The pictures are ``matplotlib.figure.Figure`` objects embedded as inline PNGs.
"""

from __future__ import annotations

from typing import Any

import torch

from reti.html import block, escape, figure_img, table

MAX_CLASSES_SHOWN = 10


def _counts(y: torch.Tensor, k: int) -> list[int]:
    return torch.bincount(y.long().flatten(), minlength=k).tolist() if len(y) else [0] * k


def _class_table(classes: list[str], train_y: torch.Tensor, test_y: torch.Tensor) -> str:
    k = len(classes)
    tr, te = _counts(train_y, k), _counts(test_y, k)
    rows = [{"class": c, "train": tr[i], "test": te[i]} for i, c in enumerate(classes)]
    if k > MAX_CLASSES_SHOWN:
        rows = [*rows[: MAX_CLASSES_SHOWN - 1], None, rows[-1]]
    return table(rows, ["class", "train", "test"])


def image_strip(data: Any, per_class: int = 1):
    """A Figure with the first training image of each class (up to ten), titled by class."""
    from matplotlib.figure import Figure

    picks = []
    for k, name in enumerate(data.classes[:MAX_CLASSES_SHOWN]):
        where = (data.train_y == k).nonzero().flatten()[:per_class].tolist()
        picks += [(i, name) for i in where]
    fig = Figure(figsize=(1.0 * max(len(picks), 1), 1.25))
    axes = fig.subplots(1, max(len(picks), 1), squeeze=False)[0]
    for ax in axes:
        ax.axis("off")
    for ax, (i, name) in zip(axes, picks):
        image = data.train_x[i].permute(1, 2, 0).numpy()  # (C, H, W) -> (H, W, C), uint8
        if image.shape[-1] == 1:
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
        else:
            ax.imshow(image)
        ax.set_title(str(name), fontsize=8)
    return fig


def images_summary(data: Any) -> str:
    c, h, w = data.train_x.shape[1:]
    return (
        f"ImageData {data.name!r}: {len(data.train_x)} train / {len(data.test_x)} test images, "
        f"{c}x{h}x{w}, {len(data.classes)} classes"
    )


def images_html(data: Any) -> str:
    """Summary line, the per-class counts and one sample image per class."""
    return block(
        images_summary(data),
        _class_table(list(map(str, data.classes)), data.train_y, data.test_y),
        figure_img(image_strip(data)),
    )


def series_figure(data: Any, max_columns: int = 4):
    """A Figure of the series (first columns), anomalous steps marked in red when labelled."""
    from matplotlib.figure import Figure

    values = data.values.detach().float().cpu()
    fig = Figure(figsize=(8, 2.6), layout="tight")
    ax = fig.subplots()
    steps = torch.arange(len(values))
    for j, name in enumerate(data.columns[:max_columns]):
        ax.plot(steps, values[:, j], lw=1, label=str(name))
    if data.labels is not None and bool(data.labels.any()):
        hit = data.labels.bool()
        ax.scatter(steps[hit], values[hit, 0], s=8, color="tab:red", label="anomaly", zorder=3)
    ax.set(xlabel="step", ylabel="value", title=data.name)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def series_summary(data: Any) -> str:
    n, c = data.values.shape
    extra = f", season {data.season}" if data.season > 1 else ""
    if data.labels is not None:
        extra += f", {int(data.labels.sum())} anomalous steps"
    return f"SeriesData {data.name!r}: {n} steps x {c} column(s){extra}"


def series_html(data: Any) -> str:
    """Summary line, the columns and the series drawn."""
    columns = ", ".join(escape(str(c)) for c in data.columns[:8])
    more = f" (+{len(data.columns) - 8})" if len(data.columns) > 8 else ""
    return block(
        series_summary(data), f"<p>columns: {columns}{more}</p>", figure_img(series_figure(data))
    )


def cases_figure(data: Any):
    """A Figure with the first training case of each class (first channel, true length)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 2.6), layout="tight")
    ax = fig.subplots()
    for k, name in enumerate(data.classes[:MAX_CLASSES_SHOWN]):
        where = (data.train_y == k).nonzero().flatten()
        if len(where):
            i = int(where[0])
            length = int(data.train_lengths[i])
            ax.plot(data.train_x[i, :length, 0].float().numpy(), lw=1, label=str(name))
    ax.set(xlabel="step", ylabel="value", title=f"{data.name}: one case per class")
    ax.legend(fontsize=7, title="class", loc="upper left")
    return fig


def cases_summary(data: Any) -> str:
    n, t, c = data.train_x.shape
    return (
        f"ClassificationData {data.name!r}: {n} train / {len(data.test_x)} test cases, "
        f"up to {t} steps x {c} channel(s), {len(data.classes)} classes"
    )


def cases_html(data: Any) -> str:
    """Summary line, the per-class counts and one case per class drawn."""
    return block(
        cases_summary(data),
        _class_table(list(map(str, data.classes)), data.train_y, data.test_y),
        figure_img(cases_figure(data)),
    )
