"""``evaluate``: mean loss and per-sample metrics of a model over a data set, in eval mode."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import Dataset

from reti.errors import ConfigError
from reti.train import ddp
from reti.train.optim import forward_loss

Data = Dataset | tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def evaluate_shares(
    net, source: ddp.Source, loss_fn, metrics, batch_size, device, dtype, info: ddp.Dist
) -> dict[str, float]:
    """Loss and per-sample metrics averaged over ``source`` (each rank takes a strided share,
    the sums are reduced over ranks). Draws no random numbers, so a run goes on unchanged."""
    was_training = net.training
    net.eval()
    names = list(metrics or {})
    sums = torch.zeros(2 + len(names), dtype=torch.float64, device=device)  # n, loss, metrics
    index = torch.arange(info.rank, source.n, info.world_size)
    batches = ddp.IndexBatches(index, range(0, len(index), batch_size), batch_size)
    for x, y in source.batches(batches, device):
        out, loss = forward_loss(net, x, y, loss_fn, device, dtype)
        sums[0] += len(y)
        sums[1] += loss.double() * len(y)
        for i, name in enumerate(names):
            sums[2 + i] += metrics[name](out, y).double().sum()
    net.train(was_training)
    sums = ddp.all_reduce_sum(sums, info).tolist()
    n = max(sums[0], 1.0)
    return {"loss": sums[1] / n, **{name: sums[2 + i] / n for i, name in enumerate(names)}}


def evaluate(
    model: nn.Module,
    data: Data,
    *,
    loss_fn: LossFn,
    metrics: dict[str, MetricFn] | None = None,
    batch_size: int = 256,
    device: str = "auto",
) -> dict[str, float]:
    """Mean loss and mean of each per-sample metric of ``model`` over ``data`` (eval mode)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    info = ddp.Dist(0, 0, 1, ddp.resolve_device(device))
    model.to(info.device)
    return evaluate_shares(
        model, ddp.Source(data, "data"), loss_fn, metrics, batch_size, info.device, None, info
    )
