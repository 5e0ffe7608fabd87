"""Images as a model's inputs: the per-channel statistics of a training split (what standard
scaling divides by) and image files read at the size and channel count a model wants.

notes: Standard Scaling (per channel, mu_j and sigma_j of the training images).
"""

from __future__ import annotations

from pathlib import Path

import torch

from reti.data.formats import read_image
from reti.errors import DataError, ShapeError


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images, scaled to [0, 1] (notes: mu_j, sigma_j)."""
    x = images.double().div(255.0)
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3), unbiased=False).clamp_min(1e-3)  # a constant channel stays finite
    return mean.tolist(), std.tolist()


def read_image_files(
    paths: list[str], channels: int, size: int, resize: bool = False
) -> torch.Tensor:
    """Image files -> uint8 (N, ``channels``, ``size``, ``size``). Another size or a colour
    image for a grey model is a ShapeError unless ``resize`` (then resized bilinearly and
    converted to grey or RGB).

    Raises:
        DataError: a path that is not a file. ShapeError: the wrong size or channels.
    """
    c, s = channels, size
    out = []
    for path in paths:
        if not Path(path).is_file():
            raise DataError(f"{path}: no such image file")
        rgb = torch.tensor(read_image(path, None, "RGB"))  # (3, H, W)
        grey = bool((rgb == rgb[:1]).all())
        if resize:
            image = torch.tensor(read_image(path, (s, s), "L" if c == 1 else "RGB"))
        else:
            if tuple(rgb.shape[1:]) != (s, s):
                raise ShapeError(
                    f"{path}: image is {rgb.shape[1]}x{rgb.shape[2]}, the model wants {s}x{s} "
                    f"(pass --resize to resize it)"
                )
            if c == 1 and not grey:
                raise ShapeError(f"{path}: a colour image, the model wants 1 channel (--resize)")
            image = rgb[:1] if c == 1 else rgb
        out.append(image)
    return torch.stack(out)


__all__ = ["channel_stats", "read_image_files"]
