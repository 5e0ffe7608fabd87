"""Geometric augmentations (notes: Data Augmentation, Trasformazioni Geometriche).

Flips and 90-degree rotations move whole pixels, so they are exact tensor ops (flip, rot90);
crops, which do too, are in ``reti.augment.crop``. Rotation, translation, scaling, shear, zoom
and affine resample: each draws a per-sample 3x3 matrix in centred pixel coordinates (x right,
y down, origin at the image centre) and a run of them inside a ``Compose`` multiplies into ONE
matrix per sample, so the batch is resampled by ONE ``grid_sample`` (bilinear, zeros outside the
image, ``align_corners=False``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reti.augment.compose import Param, Transform, check_probability, draw_mask, uniform
from reti.errors import ConfigError, ShapeError


def _where_subset(x: torch.Tensor, mask: torch.Tensor | None, fn) -> torch.Tensor:
    """x with ``fn`` applied to the images picked by ``mask`` (all of them when None)."""
    if mask is None:
        return fn(x)
    idx = mask.nonzero().squeeze(1)
    if idx.numel():
        x[idx] = fn(x[idx])
    return x


class HFlip(Transform):
    """Mirror left-right with probability p: x'[..., j] = x[..., W-1-j]."""

    op = "hflip"
    params = (Param("p", "prob", 0.5),)
    dim = 3  # the axis that is reversed

    def __init__(self, p: float = 0.5):
        self.p = check_probability(f"{self.op} p", p)

    def apply(self, x, y, generator):
        mask = draw_mask(self.p, x.shape[0], generator, x.device)
        return _where_subset(x, mask, lambda t: t.flip(self.dim)), y


class VFlip(HFlip):
    """Mirror top-bottom with probability p: x'[..., i, :] = x[..., H-1-i, :]."""

    op = "vflip"
    dim = 2


class Rot90(Transform):
    """Rotate by k * 90 degrees, k uniform in {1, 2, 3}, with probability p (exact).

    Raises:
        ShapeError: a non-square image (a quarter turn would change its shape).
    """

    op = "rot90"
    params = (Param("p", "prob", 0.5),)

    def __init__(self, p: float = 0.5):
        self.p = check_probability("rot90 p", p)

    def apply(self, x, y, generator):
        if x.shape[2] != x.shape[3]:
            raise ShapeError(f"rot90 needs square images, got H={x.shape[2]}, W={x.shape[3]}")
        B = x.shape[0]
        k = torch.randint(1, 4, (B,), generator=generator, device=generator.device).to(x.device)
        mask = draw_mask(self.p, B, generator, x.device)
        if mask is not None:
            k = torch.where(mask, k, torch.zeros_like(k))
        for turns in (1, 2, 3):
            x = _where_subset(x, k == turns, lambda t, n=turns: torch.rot90(t, n, dims=(2, 3)))
        return x, y


# ----------------------------------------------------------------------------------- affine ops
def _range(name: str, value, symmetric: bool = True) -> tuple[float, float]:
    """A number v means [-v, v] (or [v, v] when not symmetric); a pair means [lo, hi]."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = (float(v) for v in value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if symmetric and value < 0:
            raise ConfigError(f"{name} as one number must be >= 0 (or a pair lo, hi), got {value}")
        lo, hi = (-float(value), float(value)) if symmetric else (value, value)
    else:
        raise ConfigError(f"{name} must be a number or a pair (lo, hi), got {value!r}")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ConfigError(f"{name} must be finite with lo <= hi, got {value!r}")
    return lo, hi


def _matrices(*top_rows: torch.Tensor | float) -> torch.Tensor:
    """Entries a..f, each (B,) or a number -> (B, 3, 3) [[a b c] [d e f] [0 0 1]]."""
    ref = next(v for v in top_rows if isinstance(v, torch.Tensor))
    rows = [v if isinstance(v, torch.Tensor) else torch.full_like(ref, v) for v in top_rows]
    z, o = torch.zeros_like(ref), torch.ones_like(ref)
    return torch.stack([*rows, z, z, o], -1).view(-1, 3, 3)


def _rotation(theta: torch.Tensor) -> torch.Tensor:
    """(B,) radians -> rotations, counter-clockwise on screen (y points down)."""
    c, s = torch.cos(theta), torch.sin(theta)
    return _matrices(c, s, 0.0, -s, c, 0.0)


def _translation(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    return _matrices(1.0, 0.0, tx, 0.0, 1.0, ty)


def warp(x: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Resample x so that input point q lands at ``forward @ q`` (centred pixel coordinates).

    The sampling grid needs the inverse map, expressed in grid_sample's [-1, 1] coordinates:
    theta = N forward^-1 N^-1 with N = diag(2/W, 2/H, 1).
    """
    B, _, H, W = x.shape
    n = torch.tensor([2.0 / W, 2.0 / H, 1.0], dtype=forward.dtype, device=forward.device)
    theta = n[:, None] * torch.linalg.inv(forward) / n[None, :]  # N A N^-1 for diagonal N
    theta = theta.to(x.device, x.dtype)  # float64 stays on the generator's device (MPS has none)
    grid = F.affine_grid(theta[:, :2], [B, 1, H, W], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class AffineTransform(Transform):
    """Base of the resampling ops: ``matrix`` draws (B, 3, 3) forward maps; p picks identity."""

    def matrix(self, B: int, H: int, W: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def sample(self, B: int, H: int, W: int, generator: torch.Generator) -> torch.Tensor:
        """The forward maps, identity for the images this op skips (probability 1 - p)."""
        m = self.matrix(B, H, W, generator)
        mask = draw_mask(self.p, B, generator, generator.device)
        if mask is not None:
            m = torch.where(mask[:, None, None], m, torch.eye(3, dtype=m.dtype, device=m.device))
        return m

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        return warp(x, self.sample(B, H, W, generator)), y

    @staticmethod
    def fuse_affine(run: list[AffineTransform]) -> Transform:
        return FusedAffine(run)


class FusedAffine(Transform):
    """A run of affine ops as one: forward = M_n ... M_2 M_1, one grid_sample for the batch."""

    op = "fused"

    def __init__(self, ops: list[AffineTransform]):
        self.ops, self.p = list(ops), 1.0

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        total = torch.eye(3, dtype=torch.float64, device=generator.device).expand(B, 3, 3)
        for op in self.ops:
            total = op.sample(B, H, W, generator) @ total
        return warp(x, total), y

    def spec(self) -> str:
        return ",".join(op.spec() for op in self.ops)


def _u(lo: float, hi: float, B: int, generator: torch.Generator) -> torch.Tensor:
    return uniform(lo, hi, B, generator, generator.device).to(torch.float64)


class Rotate(AffineTransform):
    """Rotate about the centre by an angle uniform in [-degrees, degrees] (or [lo, hi])."""

    op = "rotate"
    params = (Param("degrees", "range", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, degrees: float | tuple[float, float] = 0.0, p: float = 1.0):
        self.degrees, self.p = degrees, check_probability("rotate p", p)
        self._lo, self._hi = _range("rotate degrees", degrees)

    def matrix(self, B, H, W, generator):
        return _rotation(torch.deg2rad(_u(self._lo, self._hi, B, generator)))


class Translate(AffineTransform):
    """Shift by (tx W, ty H) pixels, tx and ty uniform in [-f, f] (a pair gives (fx, fy))."""

    op = "translate"
    params = (Param("fraction", "range", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, fraction: float | tuple[float, float] = 0.0, p: float = 1.0):
        self.fraction, self.p = fraction, check_probability("translate p", p)
        fx, fy = fraction if isinstance(fraction, tuple) else (fraction, fraction)
        for f in (fx, fy):
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f <= 1:
                raise ConfigError(f"translate fraction must be in [0, 1], got {fraction!r}")
        self._fx, self._fy = float(fx), float(fy)

    def matrix(self, B, H, W, generator):
        tx = _u(-self._fx, self._fx, B, generator) * W
        ty = _u(-self._fy, self._fy, B, generator) * H
        return _translation(tx, ty)


class Scale(AffineTransform):
    """Scale about the centre by s uniform in [lo, hi] (s < 1 shrinks, zeros fill the border)."""

    op = "scale"
    params = (
        Param("lo", "num", 0.9, shown=True),
        Param("hi", "num", 1.1, shown=True),
        Param("p", "prob", 1.0),
    )

    def __init__(self, lo: float = 0.9, hi: float = 1.1, p: float = 1.0):
        self.lo, self.hi, self.p = lo, hi, check_probability("scale p", p)
        if not 0 < lo <= hi:
            raise ConfigError(f"scale needs 0 < lo <= hi, got lo={lo!r}, hi={hi!r}")

    def matrix(self, B, H, W, generator):
        s = _u(self.lo, self.hi, B, generator)
        return _matrices(s, 0.0, 0.0, 0.0, s, 0.0)


class Shear(AffineTransform):
    """Horizontal shear x' = x + tan(phi) y, phi uniform in [-degrees, degrees]."""

    op = "shear"
    params = (Param("degrees", "range", 0.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, degrees: float | tuple[float, float] = 0.0, p: float = 1.0):
        self.degrees, self.p = degrees, check_probability("shear p", p)
        self._lo, self._hi = _range("shear degrees", degrees)
        if max(abs(self._lo), abs(self._hi)) >= 90:
            raise ConfigError(f"shear degrees must be within (-90, 90), got {degrees!r}")

    def matrix(self, B, H, W, generator):
        phi = torch.deg2rad(_u(self._lo, self._hi, B, generator))
        return _matrices(1.0, torch.tan(phi), 0.0, 0.0, 1.0, 0.0)  # x' = x + tan(phi) y


class Zoom(AffineTransform):
    """Zoom in by z uniform in [1, factor] (or [lo, hi]) around a random point, view kept inside.

    forward: q' = z (q - c), |c| <= ((size - 1) / 2)(1 - 1/z): the view stays on pixel centres.
    """

    op = "zoom"
    params = (Param("factor", "range", 1.0, shown=True), Param("p", "prob", 1.0))

    def __init__(self, factor: float | tuple[float, float] = 1.0, p: float = 1.0):
        self.factor, self.p = factor, check_probability("zoom p", p)
        lo, hi = _range("zoom factor", factor, symmetric=False)
        self._lo, self._hi = (1.0, hi) if not isinstance(factor, tuple) else (lo, hi)
        if self._lo <= 0 or self._hi < self._lo:
            raise ConfigError(f"zoom factor must be > 0 (a number >= 1 or lo <= hi), got {factor}")

    def matrix(self, B, H, W, generator):
        z = _u(self._lo, self._hi, B, generator)
        room = (1 - 1 / z).clamp(min=0) / 2
        cx = _u(-1, 1, B, generator) * room * (W - 1)  # pixel centres span W - 1
        cy = _u(-1, 1, B, generator) * room * (H - 1)
        return _matrices(z, 0.0, 0.0, 0.0, z, 0.0) @ _translation(-cx, -cy)


class Affine(AffineTransform):
    """Rotation, shear and scale about the centre, then a translation: T R Sh S (torchvision)."""

    op = "affine"
    params = (
        Param("deg", "range", 0.0),
        Param("translate", "num", 0.0),
        Param("scale", "pair", (1.0, 1.0)),
        Param("shear", "range", 0.0),
        Param("p", "prob", 1.0),
    )

    def __init__(
        self,
        deg: float | tuple[float, float] = 0.0,
        translate: float = 0.0,
        scale: tuple[float, float] = (1.0, 1.0),
        shear: float | tuple[float, float] = 0.0,
        p: float = 1.0,
    ):
        self.deg, self.translate, self.scale, self.shear = deg, translate, tuple(scale), shear
        self.p = check_probability("affine p", p)
        if len(self.scale) != 2:
            raise ConfigError(f"affine scale must be a pair (lo, hi), got {scale!r}")
        built = []
        for name, cls, args in (
            ("deg", Rotate, (deg,)),
            ("translate", Translate, (translate,)),
            ("scale", Scale, self.scale),
            ("shear", Shear, (shear,)),
        ):  # the parts check their own ranges; the message names the affine argument
            try:
                built.append(cls(*args))
            except ConfigError as exc:
                raise ConfigError(f"affine {name}: {exc}") from None
        self._rot, self._shift, self._scale, self._shear = built

    def matrix(self, B, H, W, generator):
        parts = [op.matrix(B, H, W, generator) for op in (self._rot, self._shear, self._scale)]
        return self._shift.matrix(B, H, W, generator) @ parts[0] @ parts[1] @ parts[2]
