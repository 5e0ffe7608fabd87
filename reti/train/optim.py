"""Optimizers, learning-rate schedules and a weight EMA for ``fit``.

* Parameter groups: weight decay only on matrices (Linear/Conv weights); never on biases,
  normalisation scales or embedding tables (decaying those pulls them to zero for no gain --
  the AdamW paper's and nanoGPT's choice).
* AdamW (fused kernel where this torch has one) and SGD with momentum / Nesterov; one
  accumulated forward/backward over micro-batches, and one update (clip, step, zero).
  Fused on the CPU too: measured 0.42 ms per AdamW step against 6.5-7 ms for ``foreach`` (eight
  256x256 layers, one thread). The seconds a first call can take are not the fused kernel's:
  in this torch, building *any* optimizer imports ``torch._dynamo`` (~3 s, once per process).
* Schedules as a multiplier ``lr(step) = base_lr * factor(step)`` (LambdaLR style, but a plain
  function of the optimizer step, so a checkpoint only needs the step to restore it).
* ``WeightEMA``: ``ema = decay * ema + (1 - decay) * w`` after every optimizer step.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
from torch import nn

from reti.errors import ConfigError, ShapeError
from reti.runtime import autocast

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("constant", "step", "cosine", "onecycle")

# one-cycle: start and end at base_lr / 25, peak at base_lr after 30% of training (Smith 2018).
ONECYCLE_START = 1 / 25
ONECYCLE_PEAK_AT = 0.3


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: ``decay`` (matrices and conv kernels) and ``no_decay`` (the rest).

    Embedding tables are >= 2-D but are looked up, not multiplied: they join ``no_decay``.
    """
    embedding_ids = {
        id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding | nn.EmbeddingBag)
    }
    decay, no_decay, seen = [], [], set()
    for p in model.parameters():
        if not p.requires_grad or id(p) in seen:  # tied weights appear once
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 and id(p) not in embedding_ids else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    groups.append({"params": no_decay, "weight_decay": 0.0})
    return [g for g in groups if g["params"]]


def _fused_ok(params: list[torch.Tensor]) -> bool:
    """Fused kernels want every parameter floating point on one CPU/CUDA device."""
    devices = {p.device.type for p in params}
    return (
        len(devices) == 1
        and devices <= {"cpu", "cuda"}
        and all(p.is_floating_point() for p in params)
    )


def build_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> torch.optim.Optimizer:
    """AdamW or SGD over ``param_groups(model, weight_decay)``; fused where available.

    Raises:
        ConfigError: unknown optimizer name or a model without trainable parameters.
    """
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    groups = param_groups(model, weight_decay)
    params = [p for g in groups for p in g["params"]]
    if not params:
        raise ConfigError("the model has no trainable parameters (requires_grad is off everywhere)")
    fused = _fused_ok(params)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, fused=fused)
    return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov, fused=fused)


def schedule_factor(name: str, total_steps: int, warmup_steps: int = 0) -> Callable[[int], float]:
    """``factor(step)`` multiplying the base learning rate before optimizer step ``step`` (0-based).

    constant: 1 (after a linear warmup); step: x0.1 at 50% and again at 75% of training;
    cosine: linear warmup then ``0.5 (1 + cos(pi t))`` down to 0; onecycle: linear from 1/25 up
    to 1 over the warmup (30% of training when ``warmup_steps`` is 0), then linear down to 0.
    """
    if name not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}")
    total = max(1, int(total_steps))
    warm = int(warmup_steps)

    def warmup(step: int) -> float:
        return (step + 1) / warm if step < warm else 1.0

    if name == "constant":
        return warmup
    if name == "step":
        return lambda s: warmup(s) * (0.1 ** ((s >= total // 2) + (s >= (3 * total) // 4)))
    if name == "cosine":

        def cosine(step: int) -> float:
            if step < warm:
                return warmup(step)
            t = (step - warm) / max(1, total - warm)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))

        return cosine
    peak = warm if warm > 0 else max(1, round(ONECYCLE_PEAK_AT * total))

    def onecycle(step: int) -> float:
        if step < peak:
            return ONECYCLE_START + (1 - ONECYCLE_START) * step / peak
        return max(0.0, 1.0 - (step - peak) / max(1, total - peak))

    return onecycle


def forward_loss(net, x, y, loss_fn, device: torch.device, dtype: torch.dtype | None):
    """``out = net(x)`` and ``loss_fn(out, y)`` under autocast; the loss must be a scalar."""
    with autocast(device, dtype):
        out = net(x)
        loss = loss_fn(out, y)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise ShapeError("loss_fn must return a scalar tensor (the batch mean)")
    return out, loss


def accumulate_gradients(
    net: nn.Module,
    batches,
    group_size: int,
    loss_fn: Callable,
    *,
    device: torch.device,
    dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
    ddp_net: nn.Module | None = None,
    transform: Callable | None = None,
    generator: torch.Generator | None = None,
    channels_last: bool = False,
) -> tuple[torch.Tensor, int]:
    """Forward + backward over one group of micro-batches ``(x, y, is_last)``.

    Each loss is weighted by its batch's share of the ``group_size`` samples, so the summed
    gradient is the gradient of the group's mean loss: two batches of 8 make one batch of 16
    (mini-batch gradient descent). Returns the group's mean loss (a tensor: no sync) and how
    many tokens it held (integer ``(B, T)`` inputs), for the throughput columns.
    """
    group_loss = torch.zeros((), dtype=torch.float32, device=device)
    tokens = 0
    for x, y, last in batches:
        if channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if transform is not None:
            x, y = transform(x, y, generator)
        if not x.is_floating_point() and x.dim() == 2:
            tokens += x.numel()
        # DDP all-reduces gradients on every backward; only the group's last one needs it.
        quiet = ddp_net is not None and not last
        with ddp_net.no_sync() if quiet else contextlib.nullcontext():
            _, loss = forward_loss(net, x, y, loss_fn, device, dtype)
            share = loss * (len(y) / group_size)
            (scaler.scale(share) if scaler is not None else share).backward()
        group_loss += share.detach().float()
    return group_loss, tokens


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Put ``lr`` into every parameter group (as a float, so fused kernels keep working)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def optimizer_step(
    optimizer: torch.optim.Optimizer,
    lr: float,
    grad_clip: float | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """One update at learning rate ``lr``: unscale (fp16), clip the global norm, step, zero the
    gradients (gradient descent, ``w <- w - lr * g``, or the AdamW / momentum variant)."""
    set_lr(optimizer, lr)
    if grad_clip is not None:
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if scaler is not None:
            scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


class WeightEMA:
    """An exponential moving average of a model's floating-point parameters and buffers.

    ``ema <- decay * ema + (1 - decay) * w`` (Polyak averaging); integer buffers (batch-norm's
    ``num_batches_tracked``) are copied. ``swap(model)`` exchanges live and averaged weights, so
    evaluating with the EMA is ``swap; evaluate; swap``.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ConfigError(f"ema_decay must be in (0, 1), got {decay!r}")
        self.decay = decay
        self.names = [k for k, v in model.state_dict().items() if v.is_floating_point()]
        state = model.state_dict()
        self.shadow = [state[k].detach().clone() for k in self.names]

    def _live(self, model: nn.Module) -> list[torch.Tensor]:
        state = model.state_dict()
        return [state[k] for k in self.names]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        torch._foreach_lerp_(self.shadow, self._live(model), 1.0 - self.decay)

    @torch.no_grad()
    def swap(self, model: nn.Module) -> None:
        for live, avg in zip(self._live(model), self.shadow):
            tmp = live.clone()
            live.copy_(avg)
            avg.copy_(tmp)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.shadow))

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, avg in zip(self.names, self.shadow):
            avg.copy_(state[name])


def use_channels_last(
    setting: bool | None, model: nn.Module, tensors: tuple[torch.Tensor, ...] | None
) -> bool:
    """``TrainConfig.channels_last``; None (auto): on for a model with a 2D convolution trained
    on image tensors (B, C, H, W) (not for a dataset, and not for the TCN's (B, C, T) series,
    whose 2D convolutions arrange their own layout)."""
    if setting is not None:
        return setting
    if tensors is None or tensors[0].dim() != 4:
        return False
    return any(isinstance(m, nn.Conv2d) for m in model.modules())
