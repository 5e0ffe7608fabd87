"""Colour and light augmentations (notes: Data Augmentation, Trasformazioni Colore/Luce).

Every op here is an affine map of the colour of each pixel, x' = A x + c with a per-sample
(C x C) matrix A and offset c, followed by one clamp to [0, 1]:

* brightness  x' = f x                                f ~ U[max(0, 1-b), 1+b]
* contrast    x' = f x + (1 - f) mean(gray(x))        f ~ U[max(0, 1-c), 1+c]
* saturation  x' = f x + (1 - f) gray(x)              f ~ U[max(0, 1-s), 1+s]
* hue         x' = R(2 pi d) x, a rotation about the grey axis (1,1,1)/sqrt(3),  d ~ U[-h, h]
* grayscale   x' = gray(x) in every channel, gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601)

Hue is the rotation of the colour cube about its grey diagonal (it keeps greys grey and the
channel mean fixed; d = 1 is a full turn), not the HSV hexcone shift of torchvision/kornia.
``jitter`` draws the four factors per sample and applies them in a random order drawn per
sample; the order is folded into one matrix, so there is one clamp at the end and none between
the four ops (torchvision clamps after each).

One channel: gray(x) = x, so saturation, hue and grayscale are exact no-ops (documented), and
brightness and contrast act on the single channel. Other channel counts raise ShapeError.
"""

from __future__ import annotations

import math

import torch

from reti.augment.compose import Param, Transform, check_probability, draw_mask
from reti.errors import ConfigError, ShapeError

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma


def gray_weights(C: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(C,) luma weights: the ITU-R 601 ones for RGB, [1] for a single channel."""
    if C == 3:
        return torch.tensor(GRAY_WEIGHTS, device=device, dtype=dtype)
    if C == 1:
        return torch.ones(1, device=device, dtype=dtype)
    raise ShapeError(f"colour ops need 1 or 3 channels, got C={C}")


def apply_colour_map(x: torch.Tensor, A: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """x' = clamp(A x + c, 0, 1) for every pixel; A (B, C, C), c (B, C). One batched matmul."""
    B, C, H, W = x.shape
    out = torch.baddbmm(c.to(x.dtype).unsqueeze(-1), A.to(x.dtype), x.reshape(B, C, H * W))
    return out.clamp_(0.0, 1.0).view(B, C, H, W)


def _factor(name: str, value: float, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    if upper is not None and value > upper:
        raise ConfigError(f"{name} must be in [0, {upper}], got {value!r}")
    return float(value)


def _hue_rotation(turns: torch.Tensor, C: int) -> torch.Tensor:
    """(B,) turns -> (B, C, C) Rodrigues rotations about the grey axis k = (1,1,1)/sqrt(3)."""
    B = turns.shape[0]
    if C == 1:
        return torch.ones(B, 1, 1, dtype=turns.dtype, device=turns.device)
    theta = 2 * math.pi * turns
    cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    k = torch.full((3,), 1 / math.sqrt(3), dtype=turns.dtype, device=turns.device)
    cross = torch.tensor(  # [k]_x, the matrix of k cross (.)
        [[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]],
        dtype=turns.dtype,
        device=turns.device,
    )
    eye = torch.eye(3, dtype=turns.dtype, device=turns.device)
    return cos * eye + sin * cross + (1 - cos) * torch.outer(k, k)


class ColorJitter(Transform):
    """Brightness, contrast, saturation and hue, each factor per sample, in a per-sample order."""

    op = "jitter"
    params = (
        Param("brightness", "num", 0.0),
        Param("contrast", "num", 0.0),
        Param("saturation", "num", 0.0),
        Param("hue", "num", 0.0),
        Param("p", "prob", 1.0),
    )

    def __init__(
        self,
        brightness: float = 0.0,
        contrast: float = 0.0,
        saturation: float = 0.0,
        hue: float = 0.0,
        p: float = 1.0,
    ):
        self.brightness = _factor(f"{self.op} brightness", brightness)
        self.contrast = _factor(f"{self.op} contrast", contrast)
        self.saturation = _factor(f"{self.op} saturation", saturation)
        self.hue = _factor(f"{self.op} hue", hue, upper=0.5)
        self.p = check_probability(f"{self.op} p", p)
        self.shuffle = True

    def _draw(self, B: int, generator: torch.Generator) -> torch.Tensor:
        """(4, B) factors: brightness, contrast, saturation, hue turns (identity where skipped)."""
        u = torch.rand(4, B, generator=generator, device=generator.device)
        out = torch.empty_like(u)
        for i, s in enumerate((self.brightness, self.contrast, self.saturation)):
            lo = max(0.0, 1.0 - s)
            out[i] = lo + (1.0 + s - lo) * u[i]
        out[3] = self.hue * (2 * u[3] - 1)
        mask = draw_mask(self.p, B, generator, generator.device)
        if mask is not None:
            identity = torch.tensor([1.0, 1.0, 1.0, 0.0], device=u.device)[:, None]
            out = torch.where(mask[None], out, identity)
        return out

    def colour_map(self, x: torch.Tensor, generator: torch.Generator):
        """The per-sample (A, c) of x' = A x + c for the whole jitter, order folded in."""
        B, C = x.shape[:2]
        w = gray_weights(C, device=x.device)
        f = self._draw(B, generator).to(x.device)
        active = [i for i, s in enumerate(self._strengths()) if s > 0]
        if self.shuffle and len(active) > 1:
            keys = torch.rand(B, len(active), generator=generator, device=generator.device)
            order = torch.tensor(active, device=x.device)[keys.argsort(1).to(x.device)]
        else:
            order = torch.tensor(active, device=x.device, dtype=torch.long).expand(B, -1)
        means = x.mean((2, 3), dtype=torch.float32)  # (B, C), for the contrast offset
        eye = torch.eye(C, device=x.device).expand(B, C, C)
        sat = f[2][:, None, None] * eye + (1 - f[2])[:, None, None] * w.expand(C, C)
        M = torch.stack([f[0][:, None, None] * eye, f[1][:, None, None] * eye, sat])
        M = torch.cat([M, _hue_rotation(f[3], C)[None]])  # (4, B, C, C): the op matrices
        rows = torch.arange(B, device=x.device)
        A, c = eye.clone(), torch.zeros(B, C, device=x.device)
        for step in range(order.shape[1]):
            pick = order[:, step]  # each sample's op at this step
            mu = ((A @ means[:, :, None]).squeeze(-1) + c) @ w  # (B,) gray mean right now
            offset = torch.where(pick == 1, (1 - f[1]) * mu, 0.0)[:, None]  # contrast only
            M_step = M[pick, rows]
            A = M_step @ A
            c = (M_step @ c[:, :, None]).squeeze(-1) + offset
        return A, c

    def _strengths(self) -> tuple[float, float, float, float]:
        return (self.brightness, self.contrast, self.saturation, self.hue)

    def apply(self, x, y, generator):
        gray_weights(x.shape[1])  # 1 or 3 channels
        A, c = self.colour_map(x, generator)
        return apply_colour_map(x, A, c), y


class Brightness(ColorJitter):
    """x' = f x, f ~ U[max(0, 1 - b), 1 + b] per sample."""

    op = "brightness"
    params = (Param("factor", "num", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, factor: float = 0.0, p: float = 1.0):
        self.factor = _factor(f"{self.op} factor", factor, upper=None)
        super().__init__(brightness=factor, p=p)

    def _strengths(self):
        return (self.brightness, 0.0, 0.0, 0.0)


class Contrast(ColorJitter):
    """x' = f x + (1 - f) mean(gray(x)), f ~ U[max(0, 1 - c), 1 + c] per sample."""

    op = "contrast"
    params = (Param("factor", "num", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, factor: float = 0.0, p: float = 1.0):
        self.factor = _factor(f"{self.op} factor", factor, upper=None)
        super().__init__(contrast=factor, p=p)

    def _strengths(self):
        return (0.0, self.contrast, 0.0, 0.0)


class Saturation(ColorJitter):
    """x' = f x + (1 - f) gray(x), f ~ U[max(0, 1 - s), 1 + s] per sample (no-op on 1 channel)."""

    op = "saturation"
    params = (Param("factor", "num", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, factor: float = 0.0, p: float = 1.0):
        self.factor = _factor(f"{self.op} factor", factor, upper=None)
        super().__init__(saturation=factor, p=p)

    def _strengths(self):
        return (0.0, 0.0, self.saturation, 0.0)


class Hue(ColorJitter):
    """Rotate colours about the grey axis by d turns, d ~ U[-h, h], h <= 0.5 (no-op on 1 ch)."""

    op = "hue"
    params = (Param("factor", "num", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, factor: float = 0.0, p: float = 1.0):
        self.factor = _factor(f"{self.op} factor", factor, upper=0.5)
        super().__init__(hue=factor, p=p)

    def _strengths(self):
        return (0.0, 0.0, 0.0, self.hue)


class Grayscale(Transform):
    """With probability p (1: always), x' = gray(x) in every channel (ITU-R 601 weights)."""

    op = "gray"
    params = (Param("p", "prob", 1.0),)

    def __init__(self, p: float = 1.0):
        self.p = check_probability("gray p", p)

    def apply(self, x, y, generator):
        B, C = x.shape[:2]
        w = gray_weights(C, device=x.device, dtype=x.dtype)
        mask = draw_mask(self.p, B, generator, x.device)
        if C == 1:
            return x, y
        gray = torch.einsum("bchw,c->bhw", x, w)[:, None].expand_as(x)
        if mask is None:
            return gray.contiguous(), y
        return torch.where(mask[:, None, None, None], gray, x), y
