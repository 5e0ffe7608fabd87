"""Noise and distortion (notes: Data Augmentation, Noise and Distortion).

* gaussian noise      x' = clamp(x + std * n, 0, 1),  n ~ N(0, 1) per pixel and channel
* salt-and-pepper     a fraction ``amount`` of pixel positions is set to 1 (salt, half of them)
                      or to 0 (pepper, the other half), in every channel at once
* elastic deformation (Simard et al. 2003): each pixel moves by alpha * (G_sigma * u), u uniform
                      in [-1, 1] per pixel and axis, G_sigma a Gaussian blur; one grid_sample

Noise fields are drawn on the generator's device and moved to the images' device, so a CPU
generator gives the same batch on any device (pass a CUDA generator to draw on the GPU).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reti.augment.compose import Param, Transform, check_probability, draw_mask
from reti.errors import ConfigError

# Simard et al. (2003) deform digits with sigma 4 and alpha 34. The blur's kernel has
# 6 sigma + 1 taps and the field is alpha pixels: past these a deformation is noise, and
# elastic(1, 1e9) asked for a 24 GB kernel.
MAX_SIGMA = 64.0
MAX_ALPHA = 1000.0


def _positive(name: str, value, allow_zero: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _at_most(name: str, value: float, high: float) -> float:
    if value > high:
        raise ConfigError(f"{name} must be at most {high:g}, got {value!r}")
    return value


def _randn(shape, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    n = torch.randn(shape, generator=generator, device=generator.device)
    return n.to(like.device, like.dtype)


class GaussianNoise(Transform):
    """x' = clamp(x + std n, 0, 1), n ~ N(0, 1) independently per value."""

    op = "noise"
    params = (Param("std", "num", 0.05, shown=True), Param("p", "prob", 1.0))

    def __init__(self, std: float = 0.05, p: float = 1.0):
        self.std, self.p = _positive("noise std", std), check_probability("noise p", p)

    def apply(self, x, y, generator):
        n = _randn(x.shape, generator, x).mul_(self.std)
        mask = draw_mask(self.p, x.shape[0], generator, x.device)
        if mask is not None:
            n.mul_(mask[:, None, None, None])
        return (x + n).clamp_(0.0, 1.0), y  # out of place: gradients reach x


class SaltPepper(Transform):
    """Set a fraction ``amount`` of pixel positions to 1 (half) or 0 (half), all channels."""

    op = "saltpepper"
    params = (Param("amount", "num", 0.02, shown=True), Param("p", "prob", 1.0))

    def __init__(self, amount: float = 0.02, p: float = 1.0):
        self.amount = _positive("saltpepper amount", amount)
        if self.amount > 1:
            raise ConfigError(f"saltpepper amount must be in [0, 1], got {amount!r}")
        self.p = check_probability("saltpepper p", p)

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        u = torch.rand(B, 1, H, W, generator=generator, device=generator.device).to(x.device)
        salt, pepper = u < self.amount / 2, u > 1 - self.amount / 2
        mask = draw_mask(self.p, B, generator, x.device)
        if mask is not None:
            salt &= mask[:, None, None, None]
            pepper &= mask[:, None, None, None]
        return x.masked_fill(salt, 1.0).masked_fill_(pepper, 0.0), y


def gaussian_kernel(sigma: float, dtype=torch.float32, device=None) -> torch.Tensor:
    """A normalised 1-D Gaussian of radius ceil(3 sigma): g_i ~ exp(-i^2 / (2 sigma^2))."""
    radius = max(1, math.ceil(3 * sigma))
    i = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    g = torch.exp(-(i**2) / (2 * sigma**2))
    return g / g.sum()


def _blur(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a (B, 2, H, W) field, reflect padding."""
    k = gaussian_kernel(sigma, field.dtype, field.device)
    r = k.numel() // 2
    H, W = field.shape[2:]
    row = k.view(1, 1, 1, -1).expand(2, 1, 1, -1)
    col = k.view(1, 1, -1, 1).expand(2, 1, -1, 1)
    mode = "reflect" if r < min(H, W) else "replicate"
    field = F.conv2d(F.pad(field, (r, r, 0, 0), mode=mode), row, groups=2)
    return F.conv2d(F.pad(field, (0, 0, r, r), mode=mode), col, groups=2)


class Elastic(Transform):
    """Elastic deformation: displacement alpha * blur_sigma(U[-1, 1]) pixels, bilinear resample."""

    op = "elastic"
    params = (
        Param("alpha", "num", 30.0, shown=True),
        Param("sigma", "num", 4.0, shown=True),
        Param("p", "prob", 1.0),
    )

    def __init__(self, alpha: float = 30.0, sigma: float = 4.0, p: float = 1.0):
        self.alpha = _at_most("elastic alpha", _positive("elastic alpha", alpha), MAX_ALPHA)
        sigma = _positive("elastic sigma", sigma, allow_zero=False)
        self.sigma = _at_most("elastic sigma", sigma, MAX_SIGMA)
        self.p = check_probability("elastic p", p)

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        u = torch.rand(B, 2, H, W, generator=generator, device=generator.device)
        field = _blur((2 * u - 1).to(x.device, x.dtype), self.sigma) * self.alpha  # pixels
        mask = draw_mask(self.p, B, generator, x.device)
        if mask is not None:
            field = field * mask[:, None, None, None]
        # identity grid in [-1, 1] (align_corners=False) plus the displacement in those units
        ys = (torch.arange(H, device=x.device, dtype=x.dtype) * 2 + 1) / H - 1
        xs = (torch.arange(W, device=x.device, dtype=x.dtype) * 2 + 1) / W - 1
        gx = xs[None, None, :] + field[:, 0] * (2 / W)
        gy = ys[None, :, None] + field[:, 1] * (2 / H)
        grid = torch.stack([gx, gy], dim=-1)  # (B, H, W, 2)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return out, y
