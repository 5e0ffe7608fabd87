"""Pictures people would rather look at than numbers: image grids (more drawings join later)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from reti.errors import ShapeError  # noqa: E402
from reti.io import atomic_write_bytes  # noqa: E402


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Render a matplotlib figure to PNG bytes and write them atomically; closes the figure."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _to_display(images: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) float in [0, 1] or uint8 -> (B, H, W, C) float in [0, 1] on the CPU."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ShapeError(f"images must be (B, 1|3, H, W), got {tuple(images.shape)}")
    x = images.detach().to("cpu")
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    return x.clamp(0, 1).permute(0, 2, 3, 1)


def save_image_grid(
    rows: list[torch.Tensor],
    path: str | os.PathLike,
    row_titles: list[str] | None = None,
    col_titles: list[str] | None = None,
    scale: float = 1.2,
) -> Path:
    """Draw each ``(B, C, H, W)`` batch in ``rows`` as one row of a grid and save it as a PNG."""
    if not rows:
        raise ShapeError("save_image_grid needs at least one row of images")
    shown = [_to_display(r) for r in rows]
    n_cols = max(r.shape[0] for r in shown)
    fig, axes = plt.subplots(
        len(shown), n_cols, figsize=(scale * n_cols, scale * len(shown)), squeeze=False
    )
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
    return save_figure(fig, path)


# --- vision: filters, feature maps, confusion matrix (notes: VGG-16, low / mid / high features) --


def _unit(t: torch.Tensor) -> torch.Tensor:
    """Rescale each item of the first dimension to [0, 1] on its own (a flat item stays grey)."""
    flat = t.detach().float().cpu().flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    return ((flat - lo) / (hi - lo).clamp_min(1e-12)).view_as(t)


def save_filters(
    weight: torch.Tensor, path: str | os.PathLike, max_filters: int = 64, title: str = ""
) -> Path:
    """Draw a conv layer's filters ``(O, C, kh, kw)`` as a grid: RGB when C == 3, else the
    channel mean in grey; each filter rescaled to [0, 1] on its own."""
    if weight.dim() != 4:
        raise ShapeError(f"filters must be (out, in, kh, kw), got {tuple(weight.shape)}")
    w = weight.detach().float().cpu()[:max_filters]
    w = w if w.shape[1] == 3 else w.mean(1, keepdim=True)
    w = _unit(w).permute(0, 2, 3, 1).numpy()  # (O, C, kh, kw) -> (O, kh, kw, C)
    cols = min(8, len(w))
    rows = -(-len(w) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.0 * cols, 1.0 * rows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(w):
            ax.imshow(w[i][..., 0] if w.shape[-1] == 1 else w[i], cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


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


def save_feature_maps(
    maps: list[tuple[str, torch.Tensor]],
    path: str | os.PathLike,
    image: torch.Tensor | None = None,
    per_row: int = 8,
) -> Path:
    """One row per ``(title, (C, H, W))`` entry: its first ``per_row`` channels, each rescaled
    to [0, 1]; the input ``image`` (C, H, W) first when given."""
    if not maps:
        raise ShapeError("save_feature_maps needs at least one feature map")
    rows = len(maps) + (image is not None)
    fig, axes = plt.subplots(rows, per_row, figsize=(1.2 * per_row, 1.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    r = 0
    if image is not None:
        shown = _to_display(image[None])[0].numpy()
        axes[0][0].imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray")
        axes[0][0].set_title("input", fontsize=8)
        r = 1
    for title, fmap in maps:
        channels = _unit(fmap[:per_row]).numpy()
        for j, channel in enumerate(channels):
            axes[r][j].imshow(channel, cmap="viridis", vmin=0, vmax=1)
        axes[r][0].set_title(title, fontsize=8, loc="left")
        r += 1
    return save_figure(fig, path)


def save_confusion_matrix(
    matrix: torch.Tensor, classes: list[str], path: str | os.PathLike, title: str = ""
) -> Path:
    """Draw a (K, K) confusion matrix (rows: true class, columns: predicted) with its counts."""
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(classes):
        raise ShapeError(
            f"confusion matrix must be (K, K) with K = {len(classes)} classes, "
            f"got {tuple(matrix.shape)}"
        )
    m = matrix.detach().cpu().long().numpy()
    k = len(classes)
    size = max(3.0, 0.45 * k + 1.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(m, cmap="Blues")
    if k <= 20:
        ax.set_xticks(range(k), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(k), classes, fontsize=7)
        peak = int(m.max()) or 1
        for i in range(k):
            for j in range(k):
                color = "white" if m[i, j] > peak / 2 else "black"
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=6, color=color)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"confusion matrix ({int(m.sum())} images)", fontsize=9)
    return save_figure(fig, path)
