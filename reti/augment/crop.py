"""Random and centre crops after zero padding (notes: Data Augmentation, Trasformazioni
Geometriche: "ritaglio"). They move whole pixels, so a crop is exact: one gather per batch for
random windows, one slice for the centre.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reti.augment.compose import Param, Transform, check_probability, draw_mask
from reti.errors import ConfigError, ShapeError
from reti.guards import check_elements, check_side

# Zero padding past this is a typo, not a crop (airbench pads CIFAR by 2, ResNets by 4): crop(4800)
# on a batch of digits asked for 23.6 GB.
MAX_PADDING = 256


def _size(name: str, size) -> tuple[int, int] | None:
    if size is None:
        return None
    pair = size if isinstance(size, tuple) else (size, size)
    if len(pair) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in pair):
        raise ConfigError(f"{name} size must be an int or a pair of ints, got {size!r}")
    if min(pair) < 1:
        raise ConfigError(f"{name} size must be >= 1, got {size!r}")
    check_side(max(pair), f"{name} size")
    return pair


def _crop_at(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, h: int, w: int):
    """One gather: out[b, :, i, j] = x[b, :, top[b] + i, left[b] + j]."""
    B, C, _, Wp = x.shape
    rows = top[:, None] + torch.arange(h, device=x.device)  # (B, h)
    cols = left[:, None] + torch.arange(w, device=x.device)  # (B, w)
    flat = (rows[:, :, None] * Wp + cols[:, None, :]).view(B, 1, h * w).expand(B, C, h * w)
    return torch.gather(x.reshape(B, C, -1), 2, flat).view(B, C, h, w)


class _CropBase(Transform):
    def _padded(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        pad = self.padding
        B, C, H, W = x.shape
        check_elements(
            (B, C, H + 2 * pad, W + 2 * pad), x.element_size(), f"{self.op} padding {pad}"
        )
        xp = F.pad(x, (pad, pad, pad, pad)) if pad else x
        h, w = self._size or x.shape[2:]
        if h > xp.shape[2] or w > xp.shape[3]:
            raise ShapeError(
                f"{self.op} size {(h, w)} is larger than the padded image "
                f"{tuple(xp.shape[2:])} (image {tuple(x.shape[2:])}, padding {pad})"
            )
        return xp, h, w

    def _check(self, padding: int) -> None:
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ConfigError(f"{self.op} padding must be a non-negative int, got {padding!r}")
        if padding > MAX_PADDING:
            raise ConfigError(f"{self.op} padding must be at most {MAX_PADDING}, got {padding}")
        if self._size is not None and self.p < 1:
            raise ConfigError(f"{self.op} with a size changes the shape, so p must be 1")


class Crop(_CropBase):
    """Random crop: zero-pad by ``padding``, cut a ``size`` window (default: the image size)."""

    op = "crop"
    params = (
        Param("padding", "int", 0, shown=True),
        Param("size", "size", None),
        Param("p", "prob", 1.0),
    )

    def __init__(self, padding: int = 0, size: int | tuple[int, int] | None = None, p: float = 1.0):
        self.padding, self.size, self.p = padding, size, check_probability("crop p", p)
        self._size = _size("crop", size)
        self._check(padding)

    def apply(self, x, y, generator):
        B = x.shape[0]
        xp, h, w = self._padded(x)
        g, dev = generator, generator.device
        top = torch.randint(0, xp.shape[2] - h + 1, (B,), generator=g, device=dev)
        left = torch.randint(0, xp.shape[3] - w + 1, (B,), generator=g, device=dev)
        mask = draw_mask(self.p, B, g, dev)
        if mask is not None:  # skipped images keep their place (size is the image size here)
            top = torch.where(mask, top, self.padding)
            left = torch.where(mask, left, self.padding)
        return _crop_at(xp, top.to(x.device), left.to(x.device), h, w), y


class CenterCrop(_CropBase):
    """Centre crop of ``size`` after zero-padding by ``padding`` (deterministic)."""

    op = "ccrop"
    params = (
        Param("size", "size", None, shown=True),
        Param("padding", "int", 0),
        Param("p", "prob", 1.0),
    )

    def __init__(self, size: int | tuple[int, int], padding: int = 0, p: float = 1.0):
        self.size, self.padding, self.p = size, padding, check_probability("ccrop p", p)
        self._size = _size("ccrop", size)
        if self._size is None:
            raise ConfigError("ccrop needs a size, got None")
        self._check(padding)

    def apply(self, x, y, generator):
        xp, h, w = self._padded(x)
        top, left = (xp.shape[2] - h) // 2, (xp.shape[3] - w) // 2
        return xp[:, :, top : top + h, left : left + w].contiguous(), y
