"""The augmentation contract and its combinators: ``t(x, y, generator) -> (x, y)``.

Notes: Data Augmentation — sample a mini-batch, apply random transforms, train on the result.
Every transform works on a whole batch ``x`` of shape (B, C, H, W), float in [0, 1] or uint8
(uint8 in -> uint8 out, rounded), with labels ``y`` that are None, ints (B,) or soft (B, K).
Per-sample parameters are drawn from the explicit ``generator`` on its own device (a CPU
generator by default) and then moved to ``x``'s device, so the same seed gives the same batch on
any device. Every transform has a probability ``p``: each image is transformed with probability
``p``, independently of the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from reti.errors import ConfigError, ShapeError

Labels = torch.Tensor | None


@dataclass(frozen=True)
class Param:
    """One constructor argument of a transform, as the spec language sees it.

    kind: "prob" (a number in [0, 1]), "num", "int", "pair" (two numbers), "range" (a number or
    a pair), "fill" (a number or the name ``noise``).
    """

    name: str
    kind: str
    default: Any = None
    shown: bool = False  # printed even at its default: the op's main argument


def check_probability(name: str, p: float) -> float:
    """Validate a probability argument; returns it as a float."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def check_images(x: torch.Tensor) -> None:
    """Raise ShapeError/ConfigError unless ``x`` is a (B, C, H, W) batch of images."""
    if not isinstance(x, torch.Tensor):
        raise ShapeError(f"images must be a torch.Tensor (B, C, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        raise ShapeError(f"images must be 4-D (B, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[2] == 0 or x.shape[3] == 0:
        raise ShapeError(f"images must be a non-empty batch, got shape {tuple(x.shape)}")
    if x.dtype == torch.bool or x.is_complex():
        raise ConfigError(f"images must be float in [0, 1] or uint8, got dtype {x.dtype}")
    if not x.is_floating_point() and x.dtype != torch.uint8:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise ConfigError(
                f"integer images must hold values in [0, 255], got values in [{lo}, {hi}]"
            )


def check_labels(y: Labels, batch: int) -> None:
    """Labels are None, ints (B,) or soft (B, K) with the batch's length."""
    if y is None:
        return
    if not isinstance(y, torch.Tensor) or y.dim() not in (1, 2) or y.shape[0] != batch:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ShapeError(f"labels must be (B,) ints or (B, K) soft labels, B={batch}; got {shape}")


def to_working(x: torch.Tensor) -> torch.Tensor:
    """A private float copy in [0, 1] that the transforms may change in place."""
    if x.is_floating_point():
        return x.clone()
    return x.to(torch.float32).div_(255.0)


def from_working(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Back to the caller's dtype: integer images are rounded and clamped to [0, 255]."""
    if dtype.is_floating_point:
        return x
    return x.mul(255.0).round_().clamp_(0, 255).to(dtype)


def draw_mask(p: float, batch: int, generator: torch.Generator, device: torch.device):
    """Which images a transform touches: ``rand(B) < p`` (None when p == 1, all of them)."""
    if p >= 1.0:
        return None
    return (torch.rand(batch, generator=generator, device=generator.device) < p).to(device)


def uniform(lo: float, hi: float, batch: int, generator: torch.Generator, device) -> torch.Tensor:
    """B draws from U[lo, hi] on the generator's device, moved to ``device``."""
    u = torch.rand(batch, generator=generator, device=generator.device)
    return (lo + (hi - lo) * u).to(device)


def format_value(value: Any) -> str:
    """A parameter value as the spec language writes it (canonical: parse(format(v)) == v)."""
    if isinstance(value, tuple):
        return "(" + ",".join(format_value(v) for v in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


class Transform:
    """Base of every augmentation. Subclasses set ``op`` and ``params`` and write ``apply``.

    ``apply(x, y, generator)`` receives a private float copy of the batch (it may change it in
    place) and returns ``(x, y)``; ``__call__`` validates, converts dtypes and copies once.
    """

    op: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __call__(
        self, x: torch.Tensor, y: Labels = None, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, Labels]:
        if not isinstance(generator, torch.Generator):
            raise ConfigError(
                f"{self.op} needs an explicit torch.Generator, got {type(generator).__name__}"
            )
        check_images(x)
        check_labels(y, x.shape[0])
        out, y = self.apply(to_working(x), y, generator)
        return from_working(out, x.dtype), y

    def apply(self, x: torch.Tensor, y: Labels, generator: torch.Generator):
        raise NotImplementedError

    def spec(self) -> str:
        """The canonical spec: positional arguments up to the last non-default one, then p=."""
        values = [(prm, getattr(self, prm.name)) for prm in self.params if prm.name != "p"]
        while values and values[-1][1] == values[-1][0].default and not values[-1][0].shown:
            values.pop()
        parts = [format_value(v) for _, v in values]
        p_param = next((prm for prm in self.params if prm.name == "p"), None)
        if p_param is not None and self.p != p_param.default:
            parts.append(f"p={format_value(self.p)}")
        return f"{self.op}({','.join(parts)})" if parts else self.op

    def __str__(self) -> str:
        return self.spec()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec()!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.spec() == self.spec()

    def __hash__(self) -> int:
        return hash(self.spec())


def _fused_plan(transforms: Sequence[Transform]) -> list[Transform]:
    """Runs of consecutive resampling ops (``fuse_affine``) become one warp: one grid_sample."""
    plan: list[Transform] = []
    run: list[Transform] = []
    for t in [*transforms, None]:
        if t is not None and getattr(t, "fuse_affine", None) is not None:
            run.append(t)
            continue
        if len(run) > 1:
            plan.append(run[0].fuse_affine(run))
        else:
            plan.extend(run)
        run = []
        if t is not None:
            plan.append(t)
    return plan


class Compose(Transform):
    """Apply ``transforms`` in order; consecutive affine ops are fused into one matrix each."""

    op = "compose"

    def __init__(self, transforms: Sequence[Transform] = ()):
        for t in transforms:
            if not isinstance(t, Transform):
                raise ConfigError(f"Compose takes reti.augment transforms, got {t!r}")
        self.transforms = list(transforms)
        self.p = 1.0
        self._plan = _fused_plan(self.transforms)

    def apply(self, x, y, generator):
        for t in self._plan:
            x, y = t.apply(x, y, generator)
        return x, y

    def spec(self) -> str:
        return ",".join(t.spec() for t in self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __iter__(self):
        return iter(self.transforms)


def _apply_subset(t: Transform, x, y, mask: torch.Tensor, generator):
    """Run ``t`` on the images where ``mask`` is true and write them back into ``x``."""
    idx = mask.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x, y
    xs, ys = t.apply(x[idx], None if y is None else y[idx], generator)
    if xs.shape[1:] != x.shape[1:]:
        raise ShapeError(
            f"{t.spec()} changes the image shape {tuple(x.shape[1:])} -> {tuple(xs.shape[1:])}; "
            "it cannot run on only some images of a batch"
        )
    x[idx] = xs
    if ys is not None and y is not None:
        if ys.dim() != y.dim():  # a mix op inside turned int labels into soft ones
            y = torch.nn.functional.one_hot(y, ys.shape[1]).to(ys.dtype)
        y = y.clone()
        y[idx] = ys
    return x, y


class RandomApply(Transform):
    """With probability ``p`` per image, apply the whole sequence ``transforms`` to it."""

    op = "apply"

    def __init__(self, transforms: Sequence[Transform], p: float = 0.5):
        self.inner = Compose(transforms)
        self.p = check_probability("apply p", p)

    def apply(self, x, y, generator):
        mask = draw_mask(self.p, x.shape[0], generator, x.device)
        if mask is None:
            return self.inner.apply(x, y, generator)
        return _apply_subset(self.inner, x, y, mask, generator)

    def spec(self) -> str:
        inner = ",".join(t.spec() for t in self.inner.transforms)
        return f"apply({inner},p={format_value(self.p)})"


class OneOf(Transform):
    """Each image (with probability ``p``) gets exactly one of ``transforms``, chosen uniformly."""

    op = "oneof"

    def __init__(self, transforms: Sequence[Transform], p: float = 1.0):
        if len(transforms) == 0:
            raise ConfigError("oneof needs at least one transform, got none")
        self.choices = Compose(transforms).transforms
        self.p = check_probability("oneof p", p)

    def apply(self, x, y, generator):
        B = x.shape[0]
        pick = torch.randint(len(self.choices), (B,), generator=generator, device=generator.device)
        pick = pick.to(x.device)
        applied = draw_mask(self.p, B, generator, x.device)
        for k, t in enumerate(self.choices):
            mask = pick == k if applied is None else (pick == k) & applied
            x, y = _apply_subset(t, x, y, mask, generator)
        return x, y

    def spec(self) -> str:
        inner = ",".join(t.spec() for t in self.choices)
        tail = "" if self.p == 1.0 else f",p={format_value(self.p)}"
        return f"oneof({inner}{tail})"
