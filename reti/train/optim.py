"""Optimizers, learning-rate schedules and a weight EMA for ``fit``.

* Parameter groups: weight decay only on matrices (Linear/Conv weights); never on biases,
  normalisation scales or embedding tables (decaying those pulls them to zero for no gain --
  the AdamW paper's and nanoGPT's choice).
* AdamW (fused kernel where this torch has one), SGD with momentum / Nesterov, and Muon
  (``MuonAdamW``: the hidden matrices and conv kernels orthogonalised, the rest on AdamW); one
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

OPTIMIZERS = ("adamw", "sgd", "muon")
SCHEDULES = ("constant", "step", "cosine", "onecycle")

# Muon (Jordan et al. 2024): heavy Nesterov momentum, 5 Newton-Schulz steps of the quintic
# whose slope at zero is largest (their coefficients); "match RMS AdamW" scaling (Liu et al.
# 2025, arXiv 2502.16982) so one learning rate serves the Muon and the AdamW groups.
MUON_MOMENTUM = 0.95
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5

# one-cycle: start and end at base_lr / 25, peak at base_lr after 30% of training (Smith 2018).
ONECYCLE_START = 1 / 25
ONECYCLE_PEAK_AT = 0.3


def _split(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(matrices and conv kernels, the rest): trainable parameters, each once (tied weights).

    Embedding tables are >= 2-D but are looked up, not multiplied: they join the rest.
    """
    embedding_ids = {
        id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding | nn.EmbeddingBag)
    }
    matrices, rest, seen = [], [], set()
    for p in model.parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (matrices if p.dim() >= 2 and id(p) not in embedding_ids else rest).append(p)
    return matrices, rest


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: ``decay`` (matrices and conv kernels) and ``no_decay`` (the rest)."""
    decay, no_decay = _split(model)
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


def orthogonalize(g: torch.Tensor, steps: int = NS_STEPS) -> torch.Tensor:
    """``U V^T`` of ``g = U S V^T`` (approximately: singular values land in ~[0.5, 1.5]) by the
    quintic Newton-Schulz iteration ``X <- a X + (b A + c A^2) X`` with ``A = X X^T``, in bf16.

    Shape: (m, n) -> (m, n).
    """
    a, b, c = NS_COEFFICIENTS
    x = g.bfloat16()
    wide = x.shape[0] <= x.shape[1]
    x = x if wide else x.T  # iterate on the side where X X^T is the smaller Gram matrix
    x = x / x.norm().clamp_min(1e-7)  # spectral norm <= Frobenius norm = 1: inside the basin
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x if wide else x.T).to(g.dtype)


class MuonAdamW(torch.optim.Optimizer):
    """Muon on the groups marked ``muon`` (matrices and conv kernels, flattened to
    ``(out, in * k...)``), AdamW on the others (embeddings, gains, biases, the output layer).

    Muon: ``m <- mu m + (1 - mu) g``; ``u = orth(g + mu (m - g))`` (Nesterov);
    ``w <- w (1 - lr wd) - lr 0.2 sqrt(max(out, in)) u``. The AdamW groups run a real
    ``torch.optim.AdamW`` sharing these very group dicts and state, so ``state_dict``,
    ``set_lr`` and checkpoints see one optimizer.
    """

    def __init__(self, groups: list[dict], lr: float, fused: bool = False):
        super().__init__(groups, {"lr": lr, "muon": False})
        adam = [g for g in self.param_groups if not g["muon"]]
        self._adamw = torch.optim.AdamW(adam, lr=lr, fused=fused) if adam else None
        self._link()

    def _link(self) -> None:
        if self._adamw is not None:
            self._adamw.param_groups = [g for g in self.param_groups if not g["muon"]]
            self._adamw.state = self.state

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)  # makes new group dicts and state: share them again
        self._link()

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise ConfigError("MuonAdamW.step takes no closure")
        for group in self.param_groups:
            if not group["muon"]:
                continue
            lr, wd = group["lr"], group.get("weight_decay", 0.0)
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.float()
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.lerp_(g, 1 - MUON_MOMENTUM)
                update = g.lerp(buf, MUON_MOMENTUM).reshape(len(p), -1)
                scale = 0.2 * math.sqrt(max(update.shape))
                if wd:
                    p.mul_(1 - lr * wd)
                p.add_(orthogonalize(update).reshape(p.shape).to(p.dtype), alpha=-lr * scale)
        if self._adamw is not None:
            self._adamw.step()


def muon_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """``param_groups`` with the hidden matrices and kernels marked ``muon``; the last layer's
    weight (the classifier or output projection: Jordan's advice) stays with AdamW."""
    matrices, rest = _split(model)
    weights = [
        m.weight for m in model.modules() if isinstance(getattr(m, "weight", None), nn.Parameter)
    ]
    last = next((id(w) for w in reversed(weights) if w.dim() >= 2), None)
    groups = [
        {
            "params": [p for p in matrices if id(p) != last],
            "weight_decay": weight_decay,
            "muon": True,
        },
        {
            "params": [p for p in matrices if id(p) == last],
            "weight_decay": weight_decay,
            "muon": False,
        },
        {"params": rest, "weight_decay": 0.0, "muon": False},
    ]
    return [g for g in groups if g["params"]]


def build_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> torch.optim.Optimizer:
    """AdamW, SGD or Muon (``MuonAdamW``) over ``param_groups(model, weight_decay)``; fused
    where available.

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
    if name == "muon":
        return MuonAdamW(muon_groups(model, weight_decay), lr=lr, fused=fused)
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
