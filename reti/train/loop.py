"""``fit``: the one training function every pipeline uses, and ``evaluate``.

One epoch: shuffle with the run's own generator, cut into micro-batches (sharded across ranks
under torchrun), for each group of ``accumulate`` micro-batches: forward under autocast, loss
weighted by the micro-batch's share of the group, backward; then clip, set the scheduled
learning rate, step, update the EMA. After the epoch: validate, log a row, maybe stop early,
checkpoint. Everything a resumed run needs to continue bit-identically is in the checkpoint.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from reti.errors import ConfigError, TrainingError
from reti.io import ensure_dir
from reti.runtime import keep_freed_memory, make_generator, resolve_precision, seed_everything
from reti.train import checkpoint as ckpt
from reti.train import ddp, log
from reti.train.config import TrainConfig
from reti.train.flops import mfu
from reti.train.history import History
from reti.train.optim import (
    WeightEMA,
    accumulate_gradients,
    build_optimizer,
    forward_loss,
    optimizer_step,
    schedule_factor,
)

Data = Dataset | tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def _evaluate(net, source, loss_fn, metrics, batch_size, device, dtype, info) -> dict[str, float]:
    """Loss and per-sample metrics averaged over ``source`` (each rank takes a strided share)."""
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
    return _evaluate(
        model, ddp.Source(data, "data"), loss_fn, metrics, batch_size, info.device, None, info
    )


def _check_before_work(cfg, val, metrics, resume, run_dir) -> None:
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if cfg.monitor.startswith("val_") and cfg.early_stop_patience and val is None:
        raise ConfigError(f"monitor {cfg.monitor!r} needs val data for early stopping")
    if cfg.monitor.startswith("val_") and cfg.monitor[4:] not in ("loss", *metrics):
        allowed = f"'train_loss', 'val_loss' or val_ + one of the metrics {sorted(metrics)}"
        raise ConfigError(f"monitor must be {allowed}, got {cfg.monitor!r}")
    if resume and run_dir is None:
        raise ConfigError("resume=True needs a run_dir to resume from")
    if run_dir is not None:
        ensure_dir(run_dir, create=False)


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
    """Train ``model`` on ``train`` as ``cfg`` says; return its ``History``. Each step is the
    notes' recipe (notes: Data Augmentation): sample a mini-batch, transform it, train on it.

    Raises:
        ConfigError: an impossible setting (checked before any work).
        CheckpointError: ``resume`` from a checkpoint of another model or not a training one.
        TrainingError: a non-finite loss; the weights stay at the last good step.
    """
    metrics = dict(metrics or {})
    _check_before_work(cfg, val, metrics, resume, run_dir)
    train_src = ddp.Source(train, "train")
    val_src = ddp.Source(val, "val") if val is not None else None
    info = ddp.setup(cfg.device)
    device = info.device
    dtype = resolve_precision(cfg.precision, device)
    run_dir = Path(run_dir) if run_dir is not None else None
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

    seed_everything(cfg.seed + info.rank)  # dropout masks differ per rank; data order does not
    if cfg.keep_cpu_memory and device.type == "cpu":
        keep_freed_memory()  # process-wide: later steps reuse freed buffers without page faults
    raw = model.to(device)
    if cfg.channels_last:
        raw = raw.to(memory_format=torch.channels_last)
    aug_device = device if device.type == "cuda" else torch.device("cpu")
    parts = ckpt.LiveState(
        model=raw,
        optimizer=build_optimizer(
            raw, cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum, cfg.nesterov
        ),
        generators={
            "order": make_generator(cfg.seed),
            "augment": make_generator(cfg.seed + 1 + info.rank, aug_device),
        },
        ema=WeightEMA(raw, cfg.ema_decay) if cfg.ema_decay else None,
        scaler=torch.amp.GradScaler(device.type) if dtype == torch.float16 else None,
    )
    prog, order_state, restored = ckpt.Progress(), None, None
    if resume:
        restored = ckpt.load_training_state(run_dir, model_config, **vars(parts))
    if restored is not None:
        prog, order_state = ckpt.Progress(**restored[1]["progress"]), restored[0]["rng/order_epoch"]
    elif run_dir is not None and info.is_main:  # a fresh run replaces the folder's old run
        ckpt.clear_checkpoints(run_dir)
    net = ddp.wrap(raw, info)
    ddp_net = net if info.active else None
    eval_net = raw
    if cfg.compile:
        net = torch.compile(net)
        eval_net = raw if info.active else net  # DDP's forward would sync ranks on uneven shares
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
                "precision": str(dtype or torch.float32),
                "steps_per_epoch": steps_per_epoch,
                "total_steps": total_steps,
            },
        )

    def save() -> Path | None:
        if run_dir is None or not info.is_main:
            return None
        meta = {"train_config": asdict(cfg), "model_config": model_config, "progress": asdict(prog)}
        return ckpt.save_training_state(
            run_dir,
            prog.step,
            **vars(parts),
            tensors={"rng/order_epoch": order_state},
            meta=meta,
            keep_last=cfg.keep_last,
        )

    last_saved = ckpt.latest_checkpoint(run_dir) if run_dir is not None else None
    stopped_early = False
    flops_fn = getattr(raw, "flops_per_sample", None)
    while prog.epoch < cfg.epochs and (cfg.max_steps is None or prog.step < cfg.max_steps):
        if prog.micro == 0:  # a new epoch (not a resumed one): remember how its order was drawn
            order_state = parts.generators["order"].get_state()
            prog.loss_sum, prog.seen, prog.tokens, prog.seconds = 0.0, 0, 0, 0.0
        parts.generators["order"].set_state(order_state)
        order = torch.randperm(train_src.n, generator=parts.generators["order"])
        index_batches = ddp.shard(order, cfg.batch_size, info)
        net.train()
        started = time.perf_counter()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        desc = progress_desc or f"epoch {prog.epoch + 1}/{cfg.epochs}"
        bar = log.progress(steps_per_epoch, desc, cfg.quiet, info.rank)
        bar.update(prog.micro // cfg.accumulate)
        stream = train_src.batches(index_batches[prog.micro :], device)  # one loader per epoch
        for g in range(prog.micro, len(index_batches), cfg.accumulate):
            group = index_batches[g : g + cfg.accumulate]
            group_size = group.sizes()
            micro = itertools.islice(stream, len(group))
            batches = ((x, y, j == len(group) - 1) for j, (x, y) in enumerate(micro))
            group_loss, tokens = accumulate_gradients(
                net,
                batches,
                group_size,
                loss_fn,
                device=device,
                dtype=dtype,
                scaler=parts.scaler,
                ddp_net=ddp_net,
                transform=batch_transform,
                generator=parts.generators["augment"],
                channels_last=cfg.channels_last,
            )
            finite = torch.isfinite(group_loss).float()  # all ranks must agree to stop
            if ddp.all_reduce_sum(finite, info) != info.world_size:  # checked before the step
                parts.optimizer.zero_grad(set_to_none=True)
                where = f"; the last good checkpoint {last_saved} is kept" if last_saved else ""
                raise TrainingError(
                    f"training loss became {group_loss.item()} at step {prog.step + 1} "
                    f"(epoch {prog.epoch + 1}); stopped before updating the weights{where}"
                )
            optimizer_step(parts.optimizer, cfg.lr * factor(prog.step), cfg.grad_clip, parts.scaler)
            if parts.ema is not None:
                parts.ema.update(raw)
            loss_sum += group_loss.double() * group_size
            prog.seen += group_size
            prog.tokens += tokens
            prog.step += 1
            prog.micro = g + len(group)
            bar.update(1)
            if cfg.checkpoint_every and prog.step % cfg.checkpoint_every == 0:
                prog.loss_sum += loss_sum.item()
                loss_sum.zero_()
                now = time.perf_counter()
                prog.seconds += now - started
                started = now
                last_saved = save() or last_saved
            if cfg.max_steps is not None and prog.step >= cfg.max_steps:
                break
        bar.close()
        prog.loss_sum += loss_sum.item()
        seconds = prog.seconds + time.perf_counter() - started
        totals = torch.tensor([prog.loss_sum, prog.seen, prog.tokens], dtype=torch.float64)
        loss_total, seen, tokens = ddp.all_reduce_sum(totals.to(device), info).tolist()
        row: dict[str, Any] = {"epoch": prog.epoch + 1, "step": prog.step}
        row["train_loss"] = loss_total / max(seen, 1)
        if val_src is not None:
            if parts.ema is not None:  # validate the averaged weights
                parts.ema.swap(raw)
            eval_bs = cfg.eval_batch_size or cfg.batch_size
            scores = _evaluate(eval_net, val_src, loss_fn, metrics, eval_bs, device, dtype, info)
            if parts.ema is not None:
                parts.ema.swap(raw)
            row.update({f"val_{k}": v for k, v in scores.items()})
        row["lr"] = parts.optimizer.param_groups[0]["lr"]
        row["samples_per_s"] = seen / max(seconds, 1e-9)
        if tokens:
            row["tokens_per_s"] = tokens / max(seconds, 1e-9)
        if callable(flops_fn):
            row["mfu"] = mfu(float(flops_fn()), row["samples_per_s"], device)
        row["seconds"] = seconds
        prog.epoch, prog.micro = prog.epoch + 1, 0
        prog.record(row, cfg.monitor, cfg.monitor_mode)
        stopped_early = bool(cfg.early_stop_patience) and prog.bad_epochs >= cfg.early_stop_patience
        if run_dir is not None and info.is_main:
            log.write_rows(run_dir, prog.rows)
        last_saved = save() or last_saved
        if stopped_early:
            break
    if run_dir is not None and info.is_main:
        log.save_curves(run_dir, prog.rows)
    if parts.ema is not None:  # the returned model carries the averaged weights it was judged by
        parts.ema.swap(raw)
    ddp.barrier(info)
    final = prog.rows[-1] if prog.rows else None
    return History(
        rows=prog.rows,
        best=prog.best_row or final,
        final=final,
        stopped_early=stopped_early,
        run_dir=run_dir,
        model=raw,
    )
