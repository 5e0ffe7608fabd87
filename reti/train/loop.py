"""``fit``: the one training function every pipeline uses.

One epoch: shuffle with the run's own generator, cut into micro-batches (sharded across ranks
under torchrun), for each group of ``accumulate`` micro-batches: forward under autocast, loss
weighted by the micro-batch's share of the group, backward; then clip, set the scheduled
learning rate, step, update the EMA, emit ``StepEnd``; after the epoch: its row (with a
validation pass) as ``EpochEnd``. That is the whole loop (``_fit``). Everything else listens to
those events (``reti.train.listeners``): the progress bar, the run folder's files, train rows
every ``log_every`` steps, a validation pass every ``eval_every``, checkpoints, early stopping;
the caller's listeners hear the same events (``reti.train.events``). ``fit`` seeds the
training process (torch, NumPy, ``random``: ``seed + rank``, so dropout masks differ per rank)
and draws data order and augmentation from generators of its own. Everything a resumed run
needs to continue bit-identically is in the checkpoint (``reti.train.run.Run.save``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reti.errors import ConfigError
from reti.io import ensure_dir
from reti.runtime import keep_freed_memory, make_generator, resolve_precision, seed_everything
from reti.train import checkpoint as ckpt
from reti.train import ddp
from reti.train.config import TrainConfig
from reti.train.evaluate import Data, LossFn, MetricFn, evaluate
from reti.train.events import Callback, EpochEnd, RunControl, RunEnd, RunStart
from reti.train.history import History
from reti.train.listeners import attach
from reti.train.optim import (
    WeightEMA,
    accumulate_gradients,
    build_optimizer,
    optimizer_step,
    schedule_factor,
    use_channels_last,
)
from reti.train.options import RunOptions
from reti.train.run import Run, StepEnd, Task

__all__ = ["TrainConfig", "evaluate", "fit"]


def _check_before_work(cfg, val, metrics, opts: RunOptions) -> None:
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if cfg.monitor.startswith("val_") and cfg.early_stop_patience and val is None:
        raise ConfigError(f"monitor {cfg.monitor!r} needs val data for early stopping")
    if cfg.monitor.startswith("val_") and cfg.monitor[4:] not in ("loss", *metrics):
        allowed = f"'train_loss', 'val_loss' or val_ + one of the metrics {sorted(metrics)}"
        raise ConfigError(f"monitor must be {allowed}, got {cfg.monitor!r}")
    if cfg.eval_every is not None and val is None:
        raise ConfigError(f"eval_every={cfg.eval_every} needs val data to evaluate")
    if opts.resume and opts.run_dir is None:
        raise ConfigError("resume=True needs a run_dir to resume from")
    if opts.run_dir is not None:
        ensure_dir(opts.run_dir, create=False)


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
    overwrite: bool = False,
    model_config: dict[str, Any] | None = None,
    progress_desc: str | None = None,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
    finish: Callable[[nn.Module], None] | None = None,
) -> History:
    """Train ``model`` on ``train`` as ``cfg`` says; return its ``History``. Each step is the
    notes' recipe (notes: Data Augmentation): sample a mini-batch, transform it, train on it.

    ``callbacks`` hear every event of the run (rank 0 only); ``control.request_stop()`` ends
    the run cleanly after the current step (evaluated, checkpointed, resumable). ``run_dir`` is
    opened with ``run_folder``: a folder holding a run needs ``resume`` or ``overwrite``, and a
    failure puts back the run that ``overwrite`` was replacing. ``finish(model)`` runs once on
    the trained weights before the checkpoint that completes the run (e.g. BN population
    statistics); not when ``control`` stops it, so that a resume goes on exactly.

    Raises:
        ConfigError: an impossible setting (checked before any work), an unwritable folder.
        RunExistsError: ``run_dir`` holds a run and neither ``resume`` nor ``overwrite``.
        CheckpointError: ``resume`` from a checkpoint of another model or not a training one.
        TrainingError: a non-finite loss; the weights stay at the last good step.
    """
    opts = RunOptions(run_dir, resume, overwrite, callbacks, control)
    metrics = dict(metrics or {})
    _check_before_work(cfg, val, metrics, opts)
    task = Task(
        ddp.Source(train, "train"), ddp.Source(val, "val") if val is not None else None,
        loss_fn, metrics, batch_transform,
    )  # fmt: skip
    with opts.folder():  # a no-op when the caller already holds the folder open
        return _fit(model, task, cfg, opts, model_config, progress_desc, finish)


def _fit(model, task: Task, cfg: TrainConfig, opts: RunOptions, model_config, desc, finish):
    info = ddp.setup(cfg.device)
    device, dtype = info.device, resolve_precision(cfg.precision, info.device)
    micro_per_epoch = ddp.batches_per_epoch(task.train.n, cfg.batch_size, info)
    if micro_per_epoch == 0:
        raise ConfigError(
            f"batch_size {cfg.batch_size} x {info.world_size} ranks is more than the "
            f"{task.train.n} training samples"
        )
    steps_per_epoch = -(-micro_per_epoch // cfg.accumulate)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    factor = schedule_factor(cfg.schedule, total_steps, cfg.warmup_steps)

    # the training's own stream: dropout masks differ per rank, data order does not. Reseeded
    # here (not restored): the weights a seed gives do not depend on how many draws the
    # model's init took. Who calls fit holds reti.runtime.seeded around it (each pipeline
    # does) to get the caller's generators back.
    seed_everything(cfg.seed + info.rank)
    if cfg.keep_cpu_memory and device.type == "cpu":
        keep_freed_memory()  # process-wide: later steps reuse freed buffers without page faults
    raw = model.to(device)
    channels_last = use_channels_last(cfg.channels_last, raw, task.train.tensors)
    if channels_last:
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
    run = Run(
        cfg, opts, task, info, dtype=dtype, parts=parts, model_config=model_config,
        finish=finish, steps_per_epoch=steps_per_epoch, total_steps=total_steps,
    )  # fmt: skip
    resumed = opts.resume and run.restore()
    net = ddp.wrap(raw, info)
    ddp_net, run.eval_net = (net if info.active else None), raw
    if cfg.compile:
        net = torch.compile(net)
        run.eval_net = raw if info.active else net  # DDP's forward would sync uneven shares
    attach(run, desc, resumed)
    prog, order = run.prog, parts.generators["order"]
    run.emit(RunStart(**run.where(), run_dir=opts.run_dir, config=run.config()))
    while prog.epoch < cfg.epochs and (cfg.max_steps is None or prog.step < cfg.max_steps):
        if prog.micro == 0:  # a new epoch (not a resumed one): remember how its order was drawn
            run.order_state = order.get_state()
            prog.seen, prog.tokens, prog.seconds = 0, 0, 0.0
            run.sums[0].zero_()
        order.set_state(run.order_state)
        shuffled = torch.randperm(task.train.n, generator=order)
        index_batches = ddp.shard(shuffled, cfg.batch_size, info)
        net.train()
        stream = task.train.batches(index_batches[prog.micro :], device)  # one loader per epoch
        at_end, run.clock = True, time.perf_counter()
        for g in range(prog.micro, len(index_batches), cfg.accumulate):
            group = index_batches[g : g + cfg.accumulate]
            micro = itertools.islice(stream, len(group))
            batches = ((x, y, j == len(group) - 1) for j, (x, y) in enumerate(micro))
            sizes = group.sizes()
            loss, tokens = accumulate_gradients(
                net, batches, sizes, task.loss_fn, device=device, dtype=dtype,
                scaler=parts.scaler, ddp_net=ddp_net, transform=task.batch_transform,
                generator=parts.generators["augment"], channels_last=channels_last,
            )  # fmt: skip
            run.check_finite(loss)  # before the step: the weights stay at the last good one
            optimizer_step(parts.optimizer, cfg.lr * factor(prog.step), cfg.grad_clip, parts.scaler)
            if parts.ema is not None:
                parts.ema.update(raw)
            run.count(loss, sizes, tokens, micro=g + len(group))
            last_step = cfg.max_steps is not None and prog.step >= cfg.max_steps
            at_end = last_step or prog.micro >= len(index_batches)  # the epoch's end follows
            run.emit(StepEnd(**run.where(), at_end=at_end))  # rows, evaluation, checkpoint
            run.stopping = run.stop_requested()
            run.clock = time.perf_counter()
            if run.stopping or last_step:
                break
        if run.stopping and not at_end:  # stopped mid-epoch: evaluate, checkpoint, leave
            if task.val is not None and run.evaluated_at != prog.step:
                run.validate()
            if run.saved_at != prog.step:  # the step's own checkpoint may have just been written
                run.save()
            break
        run.emit(EpochEnd(**run.where(), row=run.epoch_row()))  # early stop, checkpoint
        if run.stopped_early or run.stopping:
            break
    if parts.ema is not None and not run.ema_applied:  # return the averaged weights judged
        parts.ema.swap(raw)
    final = prog.rows[-1] if prog.rows else None
    ddp.barrier(info)
    run.emit(RunEnd(**run.where(), stopped=run.stopping, stopped_early=run.stopped_early,
                    final=final))  # fmt: skip
    return History(
        rows=prog.rows, steps=run.step_rows, best=prog.best_row or final, final=final,
        stopped_early=run.stopped_early, stopped=run.stopping, run_dir=opts.run_dir, model=raw,
    )  # fmt: skip
