"""``fit``: the one training function every pipeline uses, and ``evaluate``.

One epoch: shuffle with the run's own generator, cut into micro-batches (sharded across ranks
under torchrun), for each group of ``accumulate`` micro-batches: forward under autocast, loss
weighted by the micro-batch's share of the group, backward; then clip, set the scheduled
learning rate, step, update the EMA. After the epoch: validate, log a row, maybe stop early,
checkpoint. Everything a resumed run needs to continue bit-identically is in the checkpoint.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from reti.errors import CheckpointError, ConfigError, DataError, ShapeError, TrainingError
from reti.io import load_checkpoint
from reti.runtime import PRECISIONS, autocast, make_generator, resolve_precision, seed_everything
from reti.train import checkpoint as ckpt
from reti.train import ddp, log
from reti.train.flops import mfu
from reti.train.optim import (
    OPTIMIZERS,
    SCHEDULES,
    WeightEMA,
    build_optimizer,
    schedule_factor,
    set_lr,
)

Data = Dataset | tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainConfig:
    """Every knob of a training run; ``asdict`` of it goes into each checkpoint."""

    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 64
    eval_batch_size: int | None = None
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    schedule: str = "constant"
    warmup_steps: int = 0
    grad_clip: float | None = None
    accumulate: int = 1
    precision: str = "auto"
    compile: bool = False
    channels_last: bool = False
    early_stop_patience: int | None = None
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    ema_decay: float | None = None
    checkpoint_every: int | None = None
    keep_last: int = 2
    seed: int = 0
    device: str = "auto"
    quiet: bool = False

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, allowed: str) -> None:
            if not ok:
                raise ConfigError(f"{name} must be {allowed}, got {getattr(self, name)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return is_int(v) or (isinstance(v, float) and math.isfinite(v))

        for name in ("epochs", "batch_size", "accumulate", "keep_last"):
            need(is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "an integer >= 1")
        for name in ("max_steps", "eval_batch_size", "early_stop_patience", "checkpoint_every"):
            v = getattr(self, name)
            need(v is None or (is_int(v) and v >= 1), name, "None or an integer >= 1")
        need(is_num(self.lr) and self.lr > 0, "lr", "a finite number > 0")
        need(is_num(self.weight_decay) and self.weight_decay >= 0, "weight_decay", "a number >= 0")
        need(is_num(self.momentum) and 0 <= self.momentum < 1, "momentum", "in [0, 1)")
        need(self.optimizer in OPTIMIZERS, "optimizer", f"one of {', '.join(OPTIMIZERS)}")
        need(self.schedule in SCHEDULES, "schedule", f"one of {', '.join(SCHEDULES)}")
        need(is_int(self.warmup_steps) and self.warmup_steps >= 0, "warmup_steps", "an int >= 0")
        need(
            self.grad_clip is None or (is_num(self.grad_clip) and self.grad_clip > 0),
            "grad_clip",
            "None or a number > 0",
        )
        need(self.precision in PRECISIONS, "precision", f"one of {', '.join(PRECISIONS)}")
        need(self.monitor_mode in ("min", "max"), "monitor_mode", "'min' or 'max'")
        need(
            isinstance(self.monitor, str) and self.monitor.startswith(("val_", "train_loss")),
            "monitor",
            "'train_loss', 'val_loss' or 'val_<metric>'",
        )
        need(
            self.ema_decay is None or (is_num(self.ema_decay) and 0 < self.ema_decay < 1),
            "ema_decay",
            "None or in (0, 1)",
        )
        need(is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        need(self.nesterov is False or self.momentum > 0, "nesterov", "False when momentum is 0")
        for name in ("nesterov", "compile", "channels_last", "quiet"):
            need(isinstance(getattr(self, name), bool), name, "True or False")


@dataclass
class History:
    """What ``fit`` returns: one row per epoch, the best and last rows, and the trained model."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    stopped_early: bool = False
    run_dir: Path | None = None
    model: nn.Module | None = None


# ----------------------------------------------------------------------------- data
class _Source:
    """Training or validation data: an ``(X, y)`` tensor pair indexed directly (no DataLoader
    overhead), or a ``Dataset`` read through a ``DataLoader`` over the same index batches."""

    def __init__(self, data: Data, name: str):
        self.name = name
        if isinstance(data, tuple | list):
            if len(data) != 2 or not all(isinstance(t, torch.Tensor) for t in data):
                raise ShapeError(f"{name} must be a Dataset or a tuple (X, y) of two tensors")
            if data[0].dim() == 0 or data[1].dim() == 0 or len(data[0]) != len(data[1]):
                raise ShapeError(
                    f"{name} X and y must have the same length, got {tuple(data[0].shape)} "
                    f"and {tuple(data[1].shape)}"
                )
            self.tensors, self.dataset, self.n = (data[0], data[1]), None, len(data[0])
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            self.tensors, self.dataset, self.n = None, data, len(data)
        else:
            raise ShapeError(f"{name} must be a Dataset or a tuple (X, y), got {type(data)}")
        if self.n == 0:
            raise DataError(f"{name} data is empty")

    def batches(self, index_batches: list[torch.Tensor], device: torch.device):
        """Yield ``(x, y)`` on ``device`` for each tensor of indices."""
        blocking = device.type != "cuda"
        if self.tensors is not None:
            X, y = self.tensors
            for idx in index_batches:
                idx = idx.to(X.device)
                x_b, y_b = X[idx], y[idx]
                yield x_b.to(device, non_blocking=not blocking), y_b.to(device, non_blocking=True)
            return
        loader = DataLoader(
            self.dataset,
            batch_sampler=[i.tolist() for i in index_batches],
            pin_memory=device.type == "cuda",
        )
        for x_b, y_b in loader:
            yield x_b.to(device, non_blocking=not blocking), y_b.to(device, non_blocking=True)


def _forward_loss(net, x, y, loss_fn, device, dtype):
    with autocast(device, dtype):
        out = net(x)
        loss = loss_fn(out, y)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise ShapeError("loss_fn must return a scalar tensor (the batch mean)")
    return out, loss


@torch.no_grad()
def _evaluate(net, source, loss_fn, metrics, batch_size, device, dtype, info) -> dict[str, float]:
    """Loss and per-sample metrics averaged over ``source`` (each rank takes a strided share)."""
    was_training = net.training
    net.eval()
    names = list(metrics or {})
    sums = torch.zeros(2 + len(names), dtype=torch.float64, device=device)  # n, loss, metrics
    index = torch.arange(info.rank, source.n, info.world_size)
    for x, y in source.batches(list(index.split(batch_size)), device):
        out, loss = _forward_loss(net, x, y, loss_fn, device, dtype)
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
    return _evaluate(
        model, _Source(data, "data"), loss_fn, metrics, batch_size, info.device, None, info
    )


# ----------------------------------------------------------------------------- state
@dataclass
class _Progress:
    """Where the run is; all of it goes into the checkpoint meta."""

    epoch: int = 0
    micro: int = 0  # micro-batches of the current epoch already consumed
    step: int = 0  # optimizer steps so far
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_row: dict[str, Any] | None = None
    bad_epochs: int = 0
    loss_sum: float = 0.0  # this epoch's sum of loss x samples (this rank)
    seen: int = 0  # this epoch's samples (this rank)
    seconds: float = 0.0


def _save(run_dir, cfg, model_config, raw, optimizer, ema, scaler, gens, order_state, prog):
    tensors = {f"model/{k}": v for k, v in ckpt.clean_state_dict(raw).items()}
    if ema is not None:
        tensors.update({f"ema/{k}": v for k, v in ema.state_dict().items()})
    opt_tensors, opt_meta = ckpt.optimizer_tensors(optimizer)
    rng_tensors, rng_meta = ckpt.rng_state(gens)
    tensors.update(opt_tensors)
    tensors.update(rng_tensors)
    tensors["rng/order_epoch"] = order_state
    meta = {
        "kind": "reti-training-state",
        "train_config": asdict(cfg),
        "model_config": model_config,
        "progress": asdict(prog),
        "optimizer": opt_meta,
        "rng": rng_meta,
        "scaler": scaler.state_dict() if scaler is not None else None,
    }
    return ckpt.write_checkpoint(run_dir, prog.step, tensors, meta, cfg.keep_last)


def _resume(run_dir, model_config, raw, optimizer, ema, scaler, gens) -> tuple[_Progress, Any]:
    folder = ckpt.latest_checkpoint(run_dir)
    if folder is None:
        return _Progress(), None
    tensors, meta = load_checkpoint(folder)
    if meta.get("kind") != "reti-training-state":
        raise CheckpointError(f"{folder} is not a reti training checkpoint; cannot resume from it")
    if meta.get("model_config") != model_config:
        raise CheckpointError(
            f"{folder} was made for model config {meta.get('model_config')!r}, "
            f"not {model_config!r}; resume needs the same model"
        )
    ckpt.load_state_into(
        raw, {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}, str(folder)
    )
    ckpt.load_optimizer(optimizer, tensors, meta["optimizer"])
    if ema is not None:
        ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema/")})
    if scaler is not None and meta.get("scaler"):
        scaler.load_state_dict(meta["scaler"])
    ckpt.restore_rng(tensors, meta["rng"], gens)
    return _Progress(**meta["progress"]), tensors["rng/order_epoch"]


def _improved(value: float, best: float | None, mode: str) -> bool:
    if best is None:
        return True
    return value < best if mode == "min" else value > best


# ----------------------------------------------------------------------------- fit
def fit(
    model: nn.Module,
    train: Data,
    cfg: TrainConfig,
    *,
    loss_fn: LossFn,
    val: Data | None = None,
    metrics: dict[str, MetricFn] | None = None,
    batch_transform: Callable | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    model_config: dict[str, Any] | None = None,
    progress_desc: str | None = None,
) -> History:
    """Train ``model`` on ``train`` as ``cfg`` says; return its ``History`` (notes: Training).

    Raises:
        ConfigError: an impossible setting (checked before any work).
        CheckpointError: ``resume`` from a checkpoint of another model or not a training one.
        TrainingError: a non-finite loss; the weights stay at the last good step.
    """
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    metrics = dict(metrics or {})
    if cfg.monitor.startswith("val_") and cfg.early_stop_patience and val is None:
        raise ConfigError(f"monitor {cfg.monitor!r} needs val data for early stopping")
    if cfg.monitor.startswith("val_") and cfg.monitor[4:] not in ("loss", *metrics):
        raise ConfigError(
            f"monitor must be 'train_loss', 'val_loss' or val_ + one of the metrics "
            f"{sorted(metrics)}, got {cfg.monitor!r}"
        )
    if resume and run_dir is None:
        raise ConfigError("resume=True needs a run_dir to resume from")
    train_src = _Source(train, "train")
    val_src = _Source(val, "val") if val is not None else None
    info = ddp.setup(cfg.device)
    device = info.device
    dtype = resolve_precision(cfg.precision, device)
    if dtype is not None and device.type == "cpu" and dtype != torch.bfloat16:
        raise ConfigError(f"precision {cfg.precision!r} is not available on the CPU")
    run_dir = Path(run_dir) if run_dir is not None else None

    seed_everything(cfg.seed + info.rank)  # dropout etc. differ per rank; data order does not
    raw = model.to(device)
    if cfg.channels_last:
        raw = raw.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(
        raw, cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum, cfg.nesterov
    )
    ema = WeightEMA(raw, cfg.ema_decay) if cfg.ema_decay else None
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
    gens = {"order": make_generator(cfg.seed), "augment": make_generator(cfg.seed + 1 + info.rank)}
    if device.type == "cuda":
        gens["augment"] = make_generator(cfg.seed + 1 + info.rank, device)

    micro_per_epoch = ddp.batches_per_epoch(train_src.n, cfg.batch_size, info)
    if micro_per_epoch == 0:
        raise ConfigError(
            f"batch_size {cfg.batch_size} x {info.world_size} ranks is more than the "
            f"{train_src.n} training samples"
        )
    steps_per_epoch = -(-micro_per_epoch // cfg.accumulate)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    factor = schedule_factor(cfg.schedule, total_steps, cfg.warmup_steps)

    prog, order_state = _Progress(), None
    if resume:
        prog, order_state = _resume(run_dir, model_config, raw, optimizer, ema, scaler, gens)
    net = ddp.wrap(raw, info)
    ddp_net = net if info.active else None
    eval_net = raw
    if cfg.compile:
        net = torch.compile(net)
        eval_net = net if not info.active else raw
    if run_dir is not None and info.is_main:
        log.write_config(
            run_dir,
            {
                "train_config": asdict(cfg),
                "model_config": model_config,
                "train_samples": train_src.n,
                "val_samples": val_src.n if val_src else 0,
                "world_size": info.world_size,
                "device": str(device),
                "steps_per_epoch": steps_per_epoch,
                "total_steps": total_steps,
            },
        )

    def save() -> Path | None:
        if run_dir is None or not info.is_main:
            return None
        return _save(
            run_dir, cfg, model_config, raw, optimizer, ema, scaler, gens, order_state, prog
        )

    last_saved = ckpt.latest_checkpoint(run_dir) if run_dir is not None else None
    stopped_early = False
    eval_bs = cfg.eval_batch_size or cfg.batch_size
    flops_fn = getattr(raw, "flops_per_sample", None)
    while prog.epoch < cfg.epochs and (cfg.max_steps is None or prog.step < cfg.max_steps):
        if prog.micro == 0:
            order_state = gens["order"].get_state()
            prog.loss_sum, prog.seen, prog.seconds = 0.0, 0, 0.0
        gens["order"].set_state(order_state)
        order = torch.randperm(train_src.n, generator=gens["order"])
        index_batches = ddp.shard(order, cfg.batch_size, info)
        net.train()
        started, tokens = time.perf_counter(), 0
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        desc = progress_desc or f"epoch {prog.epoch + 1}/{cfg.epochs}"
        bar = log.progress(steps_per_epoch, desc, cfg.quiet, info.rank)
        bar.update(prog.micro // cfg.accumulate)
        for g in range(prog.micro, len(index_batches), cfg.accumulate):
            group = index_batches[g : g + cfg.accumulate]
            group_size = sum(len(i) for i in group)
            group_loss = torch.zeros((), dtype=torch.float32, device=device)
            for j, (x, y) in enumerate(train_src.batches(group, device)):
                if cfg.channels_last and x.dim() == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                if batch_transform is not None:
                    x, y = batch_transform(x, y, gens["augment"])
                if not x.is_floating_point() and x.dim() == 2:
                    tokens += x.numel()
                last = j == len(group) - 1
                sync = ddp_net.no_sync() if ddp_net is not None and not last else None
                with sync or contextlib.nullcontext():
                    _, loss = _forward_loss(net, x, y, loss_fn, device, dtype)
                    share = loss * (len(y) / group_size)
                    (scaler.scale(share) if scaler is not None else share).backward()
                group_loss += share.detach().float()
            if not torch.isfinite(group_loss):
                optimizer.zero_grad(set_to_none=True)
                where = f"; the last good checkpoint {last_saved} is kept" if last_saved else ""
                raise TrainingError(
                    f"training loss became {group_loss.item()} at step {prog.step + 1} "
                    f"(epoch {prog.epoch + 1}); stopped before updating the weights{where}"
                )
            set_lr(optimizer, cfg.lr * factor(prog.step))
            if cfg.grad_clip is not None:
                if scaler is not None:
                    scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(raw.parameters(), cfg.grad_clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update(raw)
            loss_sum += group_loss.double() * group_size
            prog.seen += group_size
            prog.step += 1
            prog.micro = g + len(group)
            bar.update(1)
            if cfg.checkpoint_every and prog.step % cfg.checkpoint_every == 0:
                prog.loss_sum += loss_sum.item()
                loss_sum.zero_()
                prog.seconds += time.perf_counter() - started
                started = time.perf_counter()
                last_saved = save() or last_saved
            if cfg.max_steps is not None and prog.step >= cfg.max_steps:
                break
        bar.close()
        prog.loss_sum += loss_sum.item()
        train_seconds = prog.seconds + time.perf_counter() - started
        totals = ddp.all_reduce_sum(
            torch.tensor([prog.loss_sum, prog.seen, tokens], dtype=torch.float64, device=device),
            info,
        ).tolist()
        row: dict[str, Any] = {
            "epoch": prog.epoch + 1,
            "step": prog.step,
            "train_loss": totals[0] / max(totals[1], 1),
        }
        if val_src is not None:
            if ema is not None:
                ema.swap(raw)
            scores = _evaluate(eval_net, val_src, loss_fn, metrics, eval_bs, device, dtype, info)
            if ema is not None:
                ema.swap(raw)
            row.update({f"val_{k}": v for k, v in scores.items()})
        row["lr"] = optimizer.param_groups[0]["lr"]
        row["samples_per_s"] = totals[1] / max(train_seconds, 1e-9)
        if totals[2]:
            row["tokens_per_s"] = totals[2] / max(train_seconds, 1e-9)
        if callable(flops_fn):
            row["mfu"] = mfu(float(flops_fn()), row["samples_per_s"], device)
        row["seconds"] = train_seconds
        prog.rows.append(row)
        prog.epoch += 1
        prog.micro = 0
        monitored = row.get(cfg.monitor)
        if monitored is not None and _improved(monitored, prog.best_value, cfg.monitor_mode):
            prog.best_value, prog.best_row, prog.bad_epochs = monitored, row, 0
        else:
            prog.bad_epochs += 1
        if cfg.early_stop_patience and prog.bad_epochs >= cfg.early_stop_patience:
            stopped_early = True
        if run_dir is not None and info.is_main:
            log.write_rows(run_dir, prog.rows)
        last_saved = save() or last_saved
        if stopped_early:
            break
    if run_dir is not None and info.is_main:
        log.save_curves(run_dir, prog.rows)
    if ema is not None:  # the returned model carries the averaged weights it was judged by
        ema.swap(raw)
    ddp.barrier(info)
    ddp.teardown(info)
    final = prog.rows[-1] if prog.rows else None
    return History(
        rows=prog.rows,
        best=prog.best_row or final,
        final=final,
        stopped_early=stopped_early,
        run_dir=run_dir,
        model=raw,
    )
