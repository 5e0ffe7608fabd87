"""MNIST's own preprocessing, for a digit drawn or photographed by hand: what turns a picture
into the kind of 28x28 image a net trained on MNIST has seen.

LeCun, Cortes and Burges describe it on the MNIST page: each digit was size-normalized to fit a
20x20 box keeping its aspect ratio (anti-aliasing makes grey levels), then centred in a 28x28
field by its centre of mass. A drawing has two more unknowns: which way the ink goes (dark on
white paper or white on a black pad) and how much empty space surrounds it; both are settled
here before the MNIST steps. notes: Neural Nets for Vision (the net only knows the images it was
trained on, so a new image must look like them).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from reti.errors import DataError, ShapeError

FRAME = 28  # MNIST's side
BOX = 20  # the side of the box the digit is scaled to fit
CENTRE = 14  # the pixel index MNIST puts the centre of mass on (measured: 14.00, 14.01)
INK = 0.2  # an ink pixel, after background removal and contrast stretch: above this


def _grey(image) -> torch.Tensor:
    """(H, W), (1, H, W) or (C, H, W) numbers -> (H, W) float in [0, 1] (uint8 is / 255)."""
    x = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    if x.dim() == 3:
        x = x.float().mean(0) if x.dtype != torch.uint8 else x.float().mean(0).div(255.0)
    elif x.dim() == 2:
        x = x.float().div(255.0) if x.dtype == torch.uint8 else x.float()
    else:
        raise ShapeError(f"image must be (H, W) or (C, H, W), got shape {tuple(x.shape)}")
    if min(x.shape) < 2:
        raise ShapeError(f"image must be at least 2x2, got {tuple(x.shape)}")
    if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise DataError("image values must be finite and in [0, 1] (or uint8)")
    return x


def ink_on_black(image) -> torch.Tensor:
    """The image as bright ink on a black background, stretched to [0, 1].

    The background is the median of the border pixels (a digit rarely touches all four edges):
    a bright border means dark ink on paper, so the image is inverted. The background level is
    then subtracted and the rest stretched so the darkest ink stroke reads 1, as in MNIST.

    Raises:
        DataError: an image with no ink (every pixel the background's level).
    """
    x = _grey(image)
    border = torch.cat([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]])
    if border.median() > 0.5:  # dark ink on a light background
        x = 1.0 - x
        border = 1.0 - border
    x = (x - border.median()).clamp_min(0.0)
    top = x.max()
    if top < 0.05:
        raise DataError("the image has no ink: draw or upload a digit")
    return x / top


def centre_of_mass(x: torch.Tensor) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean position of a (H, W) image, in pixel
    indices (pixel (i, j) is at (i, j)); MNIST's test digits average (14.00, 14.01)."""
    total = x.sum()
    rows = torch.arange(x.shape[0], dtype=x.dtype)
    cols = torch.arange(x.shape[1], dtype=x.dtype)
    return float((x.sum(1) * rows).sum() / total), float((x.sum(0) * cols).sum() / total)


def mnist_style(image) -> torch.Tensor:
    """A hand-drawn or photographed digit -> the (28, 28) float image in [0, 1] MNIST would hold.

    Steps (MNIST's, after ``ink_on_black``): crop to the ink's bounding box, scale the crop so
    its longer side is 20 pixels keeping the aspect ratio (bilinear with anti-aliasing: grey
    edges as in MNIST), and paste it into a black 28x28 frame shifted by whole pixels so its
    centre of mass sits on pixel (14, 14) within half a pixel, as in MNIST, unless that would
    push the digit out of the frame.

    Shape: (H, W) or (C, H, W), floats in [0, 1] or uint8 -> (28, 28).

    Raises:
        ShapeError: not an image; DataError: values out of range, or no ink.
    """
    x = ink_on_black(image)
    rows = torch.nonzero((x > INK).any(1)).flatten()
    cols = torch.nonzero((x > INK).any(0)).flatten()
    if len(rows) == 0:  # only faint ink: take all of it
        rows = torch.nonzero((x > 0).any(1)).flatten()
        cols = torch.nonzero((x > 0).any(0)).flatten()
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = F.interpolate(crop[None, None], size=size, mode="bilinear", antialias=True,
                          align_corners=False)[0, 0].clamp(0.0, 1.0)  # fmt: skip
    r, c = centre_of_mass(small)
    # whole-pixel shifts: MNIST's own test digits then come back almost unchanged (mean
    # |change| 0.0008 over 500); a sub-pixel (bilinear) shift blurred them (0.026)
    top = min(max(round(CENTRE - r), 0), FRAME - size[0])
    left = min(max(round(CENTRE - c), 0), FRAME - size[1])
    frame = torch.zeros(FRAME, FRAME)
    frame[top : top + size[0], left : left + size[1]] = small
    return frame


def fit_side(frame: torch.Tensor, side: int) -> torch.Tensor:
    """A (28, 28) ``mnist_style`` frame resized (area-weighted) to ``side`` x ``side``, for a net
    trained on smaller digits (scikit-learn's 8x8 digits); 28 returns the frame itself."""
    if side == frame.shape[-1]:
        return frame
    return F.interpolate(frame[None, None], size=(side, side), mode="bilinear", antialias=True,
                         align_corners=False)[0, 0].clamp(0.0, 1.0)  # fmt: skip
