"""Normalization from the notes (notes: Normalizzazione): standard scaling and BN population stats.

Batch norm and layer norm themselves are PyTorch's fused ``nn.BatchNorm1d/2d`` and
``nn.LayerNorm`` (``reti.reference.batch_norm`` / ``layer_norm`` spell out the same formulas).
What PyTorch lacks is here:
* ``StandardScaler``: ``X' = (X - mu) / sqrt(var)`` per feature, as a module with buffers, so
  the statistics travel with the model in its ``state_dict`` and its checkpoint;
* ``recompute_bn_stats``: the notes' "Post-Training Stats" inference for batch norm, where the
  mean and variance are computed over a whole data set after training instead of the moving
  average kept during training.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from reti.errors import ConfigError, DataError, ShapeError


class StandardScaler(nn.Module):
    """Per-feature standard scaling (notes: Standard Scaling): ``X' = (X - mu) / sqrt(var)``.

    ``mu_j = (1/n) sum_i X_ij`` and ``var_j = (1/n) sum_i (X_ij - mu_j)^2`` over every row of
    (N, F) or every time step of every series of (N, T, F). A constant feature (``var = 0``)
    is scaled by 1, so it maps to 0 instead of dividing by zero.

    Buffers ``mean``, ``std`` and ``fitted`` are saved in ``state_dict``; ``num_features`` may be
    left out and is then learnt by ``fit`` (loading a state dict sizes the buffers too).

    Raises:
        DataError: empty or non-finite data given to ``fit`` / ``transform``.
        ShapeError: data whose last dim differs from the fitted number of features.
        ConfigError: ``transform`` before ``fit``.
    """

    def __init__(self, num_features: int | None = None) -> None:
        super().__init__()
        if num_features is not None and (not isinstance(num_features, int) or num_features < 1):
            raise ConfigError(f"num_features must be a positive int, got {num_features!r}")
        n = num_features or 0
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))
        self.register_buffer("fitted", torch.tensor(False))

    @property
    def num_features(self) -> int:
        return self.mean.numel()

    def _check(self, x: torch.Tensor, what: str) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() < 2:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"StandardScaler.{what} expects (N, F) or (N, T, F), got {shape}")
        if x.numel() == 0:
            raise DataError(f"StandardScaler.{what} got empty data of shape {tuple(x.shape)}")
        if x.is_floating_point() and not torch.isfinite(x).all():
            bad = int((~torch.isfinite(x)).sum())
            raise DataError(f"StandardScaler.{what} got {bad} NaN/inf values; clean the data first")

    def fit(self, x: torch.Tensor) -> StandardScaler:
        """Learn ``mu`` and ``sqrt(var)`` per feature (last dim) from ``x``; returns ``self``."""
        self._check(x, "fit")
        if self.num_features and x.shape[-1] != self.num_features:
            raise ShapeError(
                f"StandardScaler was built for {self.num_features} features, got {x.shape[-1]}"
            )
        dtype = x.dtype if x.is_floating_point() else torch.float32
        rows = x.reshape(-1, x.shape[-1]).double()  # (N*T, F); float64 so sums stay exact
        mean = rows.mean(dim=0)
        std = (rows - mean).pow(2).mean(dim=0).sqrt()
        std = torch.where(std > 0, std, torch.ones_like(std))  # constant feature: leave as is
        self.mean = mean.to(dtype=dtype, device=self.fitted.device)
        self.std = std.to(dtype=dtype, device=self.fitted.device)
        self.fitted.fill_(True)
        return self

    def _ready(self, x: torch.Tensor, what: str) -> None:
        if not bool(self.fitted):
            raise ConfigError(f"StandardScaler.{what} called before fit; call fit(x) first")
        self._check(x, what)
        if x.shape[-1] != self.num_features:
            raise ShapeError(
                f"StandardScaler was fitted on {self.num_features} features, "
                f"got {x.shape[-1]} (shape {tuple(x.shape)})"
            )

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean) / std`` along the last dim. Shape: (..., F) -> same."""
        self._ready(x, "transform")
        x = x if x.is_floating_point() else x.to(self.mean.dtype)
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def inverse_transform(self, x: torch.Tensor) -> torch.Tensor:
        """``x * std + mean``: back to the original units. Shape: (..., F) -> same."""
        self._ready(x, "inverse_transform")
        return x * self.std.to(x.dtype) + self.mean.to(x.dtype)

    def fit_transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x).transform(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transform(x)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # An unfitted scaler has 0-sized buffers: take the saved sizes before the usual copy.
        for name in ("mean", "std"):
            saved = state_dict.get(prefix + name)
            if isinstance(saved, torch.Tensor) and saved.shape != getattr(self, name).shape:
                setattr(self, name, torch.empty_like(saved, device=self.fitted.device))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, fitted={bool(self.fitted)}"


_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _without_singletons(batches: Iterable[Any]) -> Iterator[torch.Tensor]:
    """The inputs of ``batches``, with a one-sample batch joined to the one before it.

    BN in training mode refuses a batch of one sample (no variance to compute), and a data set
    cut into fixed-size batches easily ends with one. (Joining it leaves the first BN layer's
    statistics exact; a later layer sees the first normalize that sample with its neighbours'.)
    """
    held = None
    for batch in batches:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        if held is not None and (len(x) == 1 or len(held) == 1):
            held = torch.cat([held, x.to(held.device)])
            continue
        if held is not None:
            yield held
        held = x
    if held is not None:
        if len(held) < 2:
            raise DataError("recompute_bn_stats needs at least 2 samples, got 1")
        yield held


@torch.no_grad()
def recompute_bn_stats(model: nn.Module, batches: Iterable[Any]) -> int:
    """Post-training statistics for every batch norm in ``model`` (notes: BN Inferenza).

    Runs ``model`` over ``batches`` (tensors, or tuples whose first item is the input) and sets
    each BN layer's ``running_mean`` / ``running_var`` to the exact mean and (unbiased, as
    PyTorch stores it) variance of that layer's inputs over the whole data set, per feature or
    per channel. Sums are accumulated in float64, so uneven batch sizes weigh each sample
    equally. (Averaging per-batch variances, as ``momentum=None`` does, would miss the spread
    between the batch means.) During the pass BN layers normalize with batch statistics and the
    rest of the model is in eval mode (no dropout), as in ``torch.optim.swa_utils.update_bn``;
    all training modes are restored afterwards. Returns the number of samples seen.

    Raises:
        ConfigError: the model has no batch norm with running statistics.
        DataError: ``batches`` is empty.
    """
    layers = [m for m in model.modules() if isinstance(m, _BN) and m.track_running_stats]
    if not layers:
        raise ConfigError("recompute_bn_stats: the model has no BatchNorm layer with running stats")
    sums: dict[nn.Module, list] = {m: [0, 0.0, 0.0] for m in layers}  # count, sum, sum of squares

    def collect(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        h = inputs[0].detach().double()
        dims = [0] + list(range(2, h.dim()))
        acc = sums[module]
        acc[0] += h.numel() // h.shape[1]
        acc[1] = acc[1] + h.sum(dim=dims)
        acc[2] = acc[2] + (h * h).sum(dim=dims)

    modes = {m: m.training for m in model.modules()}
    hooks = [m.register_forward_pre_hook(collect) for m in layers]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    seen = 0
    try:
        model.eval()
        for m in layers:
            m.train()
        for x in _without_singletons(batches):
            model(x.to(device))
            seen += x.shape[0]
    finally:
        for h in hooks:
            h.remove()
        for m, mode in modes.items():
            m.train(mode)
    if seen == 0:
        raise DataError("recompute_bn_stats needs at least one batch, got none")
    for m in layers:
        n, s, sq = sums[m]
        if n == 0:  # a branch the data never reached keeps its old statistics
            continue
        mean = s / n
        var = (sq - n * mean * mean) / max(n - 1, 1)  # unbiased, like PyTorch's running_var
        m.running_mean.copy_(mean.to(m.running_mean.dtype))
        m.running_var.copy_(var.clamp_min(0).to(m.running_var.dtype))
    return seen
