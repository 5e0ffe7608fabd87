"""Mixing augmentations and their loss (notes: Data Augmentation, Combinazione Tecniche).

Each image i gets a partner j = perm(i) (a random permutation of the batch) and a weight
lam ~ Beta(alpha, alpha), drawn per sample:

* mixup  (Zhang et al. 2018):  x' = lam x_i + (1 - lam) x_j,   y' = lam y_i + (1 - lam) y_j
* cutmix (Yun et al. 2019):    a box of side (H, W) * sqrt(1 - lam) centred on a uniform pixel,
  clipped to the image, is pasted from x_j; the label weight is the area actually kept,
  lam' = 1 - box area / (H W), so y' = lam' y_i + (1 - lam') y_j.

Int labels (B,) become soft labels (B, K) (K = ``num_classes``), optionally smoothed first:
y = (1 - eps) one_hot + eps / K. Soft labels (B, K) pass through as they are. Images skipped
(probability 1 - p) keep lam = 1. ``soft_cross_entropy`` trains on either kind of label.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reti.augment.compose import Param, Transform, check_probability, draw_mask
from reti.augment.mask import box_mask
from reti.errors import ConfigError, ShapeError

# Beta(alpha, alpha) past this is lam = 0.5 for every practical purpose, and float32 sampling
# of Gamma(alpha) loses its acceptance test (mixup(1e39) looped forever): the spec refuses it.
MAX_ALPHA = 1000.0
MAX_ROUNDS = 64  # rounds of the sampler's over-drawing; each accepts > 95 % at a sane alpha


def sample_gamma(alpha: float, n: int, generator: torch.Generator) -> torch.Tensor:
    """n draws of Gamma(alpha, 1) from ``generator`` (Marsaglia & Tsang 2000, vectorized).

    For alpha < 1: Gamma(alpha) = Gamma(alpha + 1) * U^(1 / alpha). Candidates are drawn in
    bulk and the first n accepted kept, so the draws depend only on the generator's state.
    """
    g, dev = generator, generator.device
    a = alpha + 1.0 if alpha < 1 else alpha
    d = a - 1.0 / 3.0
    c = 1.0 / (9.0 * d) ** 0.5
    accepted: list[torch.Tensor] = []
    have = 0
    for _ in range(MAX_ROUNDS):  # over-draw so that one round almost always suffices
        if have >= n:
            break
        m = int((n - have) * 1.1) + 16
        z = torch.randn(m, generator=g, device=dev)
        u = torch.rand(m, generator=g, device=dev)
        v = (1 + c * z) ** 3
        ok = (v > 0) & (torch.log(u) < 0.5 * z**2 + d - d * v + d * torch.log(v.clamp(min=1e-30)))
        accepted.append((d * v)[ok])
        have += accepted[-1].numel()
    if have < n:
        raise ConfigError(f"Gamma({alpha}) draws were not accepted in {MAX_ROUNDS} rounds")
    out = torch.cat(accepted)[:n]
    if alpha < 1:
        out = out * torch.rand(n, generator=g, device=dev) ** (1.0 / alpha)
    return out


def sample_beta(alpha: float, n: int, generator: torch.Generator) -> torch.Tensor:
    """n draws of Beta(alpha, alpha) = G1 / (G1 + G2) with G ~ Gamma(alpha)."""
    g1, g2 = sample_gamma(alpha, 2 * n, generator).view(2, n)
    return g1 / (g1 + g2).clamp(min=1e-30)


def soft_labels(y: torch.Tensor | None, num_classes: int | None, smoothing: float, op: str):
    """(B,) ints -> (B, K) one-hot smoothed by eps; (B, K) soft labels are returned as they are."""
    if y is None:
        raise ConfigError(f"{op} mixes labels too, so it needs y (int or soft labels), got None")
    if y.dim() == 2:
        return y.float() if not y.is_floating_point() else y
    if y.is_floating_point():
        raise ShapeError(f"{op} int labels must have an integer dtype, got {y.dtype}")
    if num_classes is None:
        raise ConfigError(
            f"{op} needs num_classes to turn int labels into soft ones "
            "(parse_spec(spec, num_classes=K)), got None"
        )
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ShapeError(f"{op} labels must be in [0, {num_classes}), got {y.min()}..{y.max()}")
    one_hot = F.one_hot(y, num_classes).float()
    return one_hot * (1 - smoothing) + smoothing / num_classes


class _Mix(Transform):
    params = (
        Param("alpha", "num", 1.0, shown=True),
        Param("smoothing", "num", 0.0),
        Param("p", "prob", 1.0),
    )

    def __init__(
        self,
        alpha: float = 1.0,
        smoothing: float = 0.0,
        p: float = 1.0,
        num_classes: int | None = None,
    ):
        ok = isinstance(alpha, (int, float)) and not isinstance(alpha, bool)
        if not ok or not 0 < alpha <= MAX_ALPHA:
            raise ConfigError(f"{self.op} alpha must be in (0, {MAX_ALPHA:g}], got {alpha!r}")
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)):
            raise ConfigError(f"{self.op} smoothing must be a number in [0, 1), got {smoothing!r}")
        if not 0 <= smoothing < 1:
            raise ConfigError(f"{self.op} smoothing must be in [0, 1), got {smoothing!r}")
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ConfigError(f"{self.op} num_classes must be an int >= 1, got {num_classes!r}")
        self.alpha, self.smoothing = float(alpha), float(smoothing)
        self.p, self.num_classes = check_probability(f"{self.op} p", p), num_classes

    def draw(self, B: int, generator: torch.Generator, device):
        """(perm, lam): the partner of each image and its own weight (1 where skipped)."""
        perm = torch.randperm(B, generator=generator, device=generator.device)
        lam = sample_beta(self.alpha, B, generator)
        mask = draw_mask(self.p, B, generator, generator.device)
        if mask is not None:
            lam = torch.where(mask, lam, torch.ones_like(lam))
        return perm.to(device), lam.to(device)

    @staticmethod
    def mix_labels(y: torch.Tensor, perm: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
        return lam[:, None] * y + (1 - lam[:, None]) * y[perm]


class Mixup(_Mix):
    """x' = lam x + (1 - lam) x[perm], y' likewise; lam ~ Beta(alpha, alpha) per sample."""

    op = "mixup"

    def apply(self, x, y, generator):
        y = soft_labels(y, self.num_classes, self.smoothing, self.op).to(x.device)
        perm, lam = self.draw(x.shape[0], generator, x.device)
        lam = lam.to(x.dtype)
        w = lam[:, None, None, None]
        x = w * x + (1 - w) * x[perm]
        return x, self.mix_labels(y, perm, lam.to(y.dtype))


class CutMix(_Mix):
    """Paste a box of area ~ (1 - lam) H W from x[perm]; labels weighted by the kept area."""

    op = "cutmix"

    def apply(self, x, y, generator):
        B, _, H, W = x.shape
        y = soft_labels(y, self.num_classes, self.smoothing, self.op).to(x.device)
        perm, lam = self.draw(B, generator, generator.device)
        cut = torch.sqrt(1 - lam)
        h, w = (cut * H).long(), (cut * W).long()
        cy = torch.randint(0, H, (B,), generator=generator, device=generator.device)
        cx = torch.randint(0, W, (B,), generator=generator, device=generator.device)
        top, left = (cy - h // 2).clamp(min=0), (cx - w // 2).clamp(min=0)
        bottom, right = (cy - h // 2 + h).clamp(max=H), (cx - w // 2 + w).clamp(max=W)
        h, w = (bottom - top).clamp(min=0), (right - left).clamp(min=0)
        kept = 1 - (h * w).to(torch.float32) / (H * W)  # the label weight is the real area
        perm, top, left, h, w = (t.to(x.device) for t in (perm, top, left, h, w))
        mask = box_mask(top, left, h, w, H, W)
        x = torch.where(mask, x[perm], x)
        return x, self.mix_labels(y, perm, kept.to(x.device, y.dtype))


def soft_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for int targets (B,) or soft targets (B, K): -(y log_softmax).sum(-1).mean().

    Raises:
        ShapeError: logits not (B, K), or targets whose shape does not match.
    """
    if logits.dim() != 2:
        raise ShapeError(f"logits must be (B, K), got shape {tuple(logits.shape)}")
    if y.dim() == 1 and not y.is_floating_point():
        if y.shape[0] != logits.shape[0]:
            raise ShapeError(f"int targets must be (B,)={logits.shape[0]}, got {tuple(y.shape)}")
        return F.cross_entropy(logits, y)
    if y.shape != logits.shape:
        raise ShapeError(
            f"soft targets must have the logits' shape {tuple(logits.shape)}, got {tuple(y.shape)}"
        )
    return -(y * F.log_softmax(logits, dim=-1)).sum(-1).mean()
