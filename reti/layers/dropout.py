"""Dropout, both ways the notes describe it (notes: Dropout).

Training: ``h = r * x`` with ``r_i ~ Bernoulli(1 - p)``; the dropped units give zero and pass
no gradient.
* ``mode="inverted"`` (what ``torch.nn.Dropout`` does): scale in training,
  ``h = (r * x) / (1 - p)``, and leave inference alone.
* ``mode="standard"`` (the original paper; PyTorch lacks it): no scaling in training, and
  ``h = (1 - p) x`` at inference, so that inference sees the activity training saw on average.
Both give the same expected activation; they differ in where the scaling lives, which matters
when a model trained one way is evaluated the other way.
"""

from __future__ import annotations

import torch
from torch import nn

from reti.errors import ConfigError

MODES = ("inverted", "standard")


def _check(p: float, mode: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ConfigError(f"Dropout p must be in [0, 1), got {p!r}")
    if mode not in MODES:
        raise ConfigError(f"Dropout mode must be one of {', '.join(MODES)}, got {mode!r}")
    return float(p)


def keep_mask(
    shape: torch.Size | tuple[int, ...],
    p: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The notes' ``r``: ones with probability ``1 - p``, zeros with probability ``p``.

    Drawn from ``generator`` when given (on the generator's device, then moved), otherwise from
    torch's global generator on ``device``.
    """
    if generator is not None:
        u = torch.rand(shape, generator=generator, device=generator.device)
        u = u.to(device) if device is not None else u
    else:
        u = torch.rand(shape, device=device)
    return (u >= p).to(dtype)


def dropout(
    x: torch.Tensor,
    p: float = 0.5,
    mode: str = "inverted",
    training: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Functional dropout; see the module docstring for the two modes.

    Raises:
        ConfigError: ``p`` outside [0, 1) or an unknown ``mode``.
    """
    p = _check(p, mode)
    if not training:
        return x if mode == "inverted" or p == 0 else x * (1.0 - p)
    if p == 0:
        return x
    r = keep_mask(x.shape, p, generator, x.device, x.dtype)
    h = x * r
    return h / (1.0 - p) if mode == "inverted" else h


class Dropout(nn.Module):
    """Dropout with a choice of scaling (notes: Dropout). Shape: any -> same.

    Args:
        p: the probability of dropping a unit, ``0 <= p < 1``.
        mode: ``"inverted"`` (scale by 1/(1-p) in training) or ``"standard"`` (scale by
            (1-p) at inference).
        generator: where the masks come from; ``None`` uses torch's global generator.

    Raises:
        ConfigError: ``p`` outside [0, 1) (``Dropout p must be in [0, 1), got 1.5``) or an
            unknown ``mode``.
    """

    def __init__(
        self, p: float = 0.5, mode: str = "inverted", generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.p = _check(p, mode)
        self.mode = mode
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.mode, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"
