"""Masking augmentations (notes: Data Augmentation, Cutout/Masking).

* cutout (DeVries & Taylor 2017): a ``size`` x ``size`` square of zeros centred on a uniform
  random pixel; the part that falls outside the image is cut off.
* random erasing (Zhong et al. 2017): a rectangle of area s H W, s ~ U[scale], and aspect ratio
  r = h / w log-uniform in [ratio], so h = sqrt(s H W r), w = sqrt(s H W / r), at a uniform
  position where it fits; filled with ``value`` or with uniform noise (``value="noise"``).
  Up to 10 draws per image (all vectorized); an image whose 10 draws all overflow is left as is.

Both build one boolean mask (B, 1, H, W) from per-sample boxes: no loop over images.
"""

from __future__ import annotations

import math

import torch

from reti.augment.compose import Param, Transform, check_probability, draw_mask
from reti.errors import ConfigError

_TRIES = 10


def box_mask(top, left, h, w, H: int, W: int) -> torch.Tensor:
    """(B, 1, H, W) bool, true inside the per-sample box [top, top+h) x [left, left+w)."""
    rows = torch.arange(H, device=top.device)[None]
    cols = torch.arange(W, device=top.device)[None]
    in_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])  # (B, H)
    in_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])  # (B, W)
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None]


class Cutout(Transform):
    """Zero a ``size`` x ``size`` square centred on a random pixel (clipped at the border)."""

    op = "cutout"
    params = (Param("size", "int", 8, shown=True), Param("p", "prob", 1.0))

    def __init__(self, size: int = 8, p: float = 1.0):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"cutout size must be an int >= 1, got {size!r}")
        self.size, self.p = size, check_probability("cutout p", p)

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        g, dev = generator, generator.device
        cy = torch.randint(0, H, (B,), generator=g, device=dev)
        cx = torch.randint(0, W, (B,), generator=g, device=dev)
        top, left = cy - self.size // 2, cx - self.size // 2
        mask = box_mask(top, left, torch.full_like(top, self.size), self.size, H, W)
        applied = draw_mask(self.p, B, g, dev)
        if applied is not None:
            mask &= applied[:, None, None, None]
        return x.masked_fill_(mask.to(x.device), 0.0), y


def _pair(name: str, value, low: float, high: float | None) -> tuple[float, float]:
    ok = isinstance(value, tuple) and len(value) == 2
    ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    if not ok or not low <= value[0] <= value[1] or (high is not None and value[1] > high):
        allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ConfigError(f"{name} must be a pair lo <= hi within {allowed}, got {value!r}")
    return float(value[0]), float(value[1])


class RandomErasing(Transform):
    """Erase a rectangle with random area fraction and aspect ratio (value or noise fill)."""

    op = "erase"
    params = (
        Param("scale", "pair", (0.02, 0.33)),
        Param("ratio", "pair", (0.3, 3.3)),
        Param("value", "fill", 0.0),
        Param("p", "prob", 0.5),
    )

    def __init__(
        self,
        scale: tuple[float, float] = (0.02, 0.33),
        ratio: tuple[float, float] = (0.3, 3.3),
        value: float | str = 0.0,
        p: float = 0.5,
    ):
        self.scale = _pair("erase scale", tuple(scale), 0.0, 1.0)
        self.ratio = _pair("erase ratio", tuple(ratio), 1e-6, None)
        if value != "noise" and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1
        ):
            raise ConfigError(f"erase value must be a number in [0, 1] or 'noise', got {value!r}")
        self.value = value if value == "noise" else float(value)
        self.p = check_probability("erase p", p)

    def boxes(self, B: int, H: int, W: int, generator: torch.Generator):
        """Per-sample (top, left, h, w, ok): the first of 10 draws that fits, h = w = 0 if none."""
        g, dev = generator, generator.device
        area = (
            H
            * W
            * (
                self.scale[0]
                + (self.scale[1] - self.scale[0]) * torch.rand(_TRIES, B, generator=g, device=dev)
            )
        )
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        r = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(_TRIES, B, generator=g, device=dev))
        h = torch.sqrt(area * r).round().long()
        w = torch.sqrt(area / r).round().long()
        fits = (h >= 1) & (w >= 1) & (h <= H) & (w <= W)
        first = torch.where(fits.any(0), fits.float().argmax(0), 0)  # (B,) first fitting try
        cols = torch.arange(B, device=dev)
        h, w, ok = h[first, cols], w[first, cols], fits.any(0)
        h, w = torch.where(ok, h, 0), torch.where(ok, w, 0)
        u = torch.rand(2, B, generator=g, device=dev)
        top = (u[0] * (H - h + 1)).long().clamp(max=H - 1)
        left = (u[1] * (W - w + 1)).long().clamp(max=W - 1)
        return top, left, h, w

    def apply(self, x, y, generator):
        B, C, H, W = x.shape
        top, left, h, w = (t.to(x.device) for t in self.boxes(B, H, W, generator))
        mask = box_mask(top, left, h, w, H, W)
        applied = draw_mask(self.p, B, generator, x.device)
        if applied is not None:
            mask &= applied[:, None, None, None]
        if self.value == "noise":
            noise = torch.rand(x.shape, generator=generator, device=generator.device)
            return torch.where(mask, noise.to(x.device, x.dtype), x), y
        return x.masked_fill_(mask, self.value), y
