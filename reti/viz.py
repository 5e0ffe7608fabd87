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
