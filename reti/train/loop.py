"""``fit``: the one training function every pipeline uses.

One epoch: shuffle with the run's own generator, cut into micro-batches (sharded across ranks
under torchrun), for each group of ``accumulate`` micro-batches: forward under autocast, loss
weighted by the micro-batch's share of the group, backward; then clip, set the scheduled
learning rate, step, update the EMA. Every ``log_every`` steps a train row, every ``eval_every``
steps a validation pass; after the epoch: validate, log a row, maybe stop early, checkpoint.
Each of those is also an event (``reti.train.events``) for the listeners given to ``fit``.
Everything a resumed run needs to continue bit-identically is in the checkpoint.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reti.errors import ConfigError, TrainingError
from reti.io import ensure_dir
from reti.runtime import keep_freed_memory, make_generator, resolve_precision, seed_everything
from reti.train import checkpoint as ckpt
from reti.train import ddp, log
from reti.train.config import TrainConfig
from reti.train.evaluate import Data, LossFn, MetricFn, evaluate, evaluate_shares
from reti.train.events import (
    Callback,
    CheckpointSaved,
    EpochEnd,
    Evaluation,
    RunControl,
    RunEnd,
    RunStart,
    TrainStep,
    emit,
)
from reti.train.flops import mfu
from reti.train.history import History
from reti.train.optim import (
    WeightEMA,
    accumulate_gradients,
    build_optimizer,
    optimizer_step,
    schedule_factor,
    use_channels_last,
)
from reti.train.rundir import replacing, run_folder
from reti.train.steps import StepLog, read_steps

__all__ = ["TrainConfig", "evaluate", "fit"]


def _check_before_work(cfg, val, metrics, resume, run_dir, callbacks, control) -> None:
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if callable(callbacks) or not all(callable(c) for c in callbacks):
        raise ConfigError(f"callbacks must be a list of callables, got {callbacks!r}")
    if control is not None and not isinstance(control, RunControl):
        raise ConfigError(f"control must be a RunControl or None, got {type(control).__name__}")
    if cfg.monitor.startswith("val_") and cfg.early_stop_patience and val is None:
        raise ConfigError(f"monitor {cfg.monitor!r} needs val data for early stopping")
    if cfg.monitor.startswith("val_") and cfg.monitor[4:] not in ("loss", *metrics):
        allowed = f"'train_loss', 'val_loss' or val_ + one of the metrics {sorted(metrics)}"
        raise ConfigError(f"monitor must be {allowed}, got {cfg.monitor!r}")
    if cfg.eval_every is not None and val is None:
        raise ConfigError(f"eval_every={cfg.eval_every} needs val data to evaluate")
    if resume and run_dir is None:
        raise ConfigError("resume=True needs a run_dir to resume from")
    if run_dir is not None:
        ensure_dir(run_dir, create=False)


def _stop_requested(control: RunControl | None, info: ddp.Dist) -> bool:
    """The control's flag, agreed by every rank (any rank asking stops all)."""
    if control is None:
        return False
    if not info.active:
        return control.stop_requested
    flag = torch.tensor(float(control.stop_requested), device=info.device)
    return ddp.all_reduce_sum(flag, info).item() > 0


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
) -> History:
    """Train ``model`` on ``train`` as ``cfg`` says; return its ``History``. Each step is the
    notes' recipe (notes: Data Augmentation): sample a mini-batch, transform it, train on it.

    ``callbacks`` hear every event of the run (rank 0 only); ``control.request_stop()`` ends
    the run cleanly after the current step (evaluated, checkpointed, resumable). ``run_dir`` is
    opened with ``run_folder``: a folder holding a run needs ``resume`` or ``overwrite``, and a
    failure puts back the run that ``overwrite`` was replacing.

    Raises:
        ConfigError: an impossible setting (checked before any work), an unwritable folder.
        RunExistsError: ``run_dir`` holds a run and neither ``resume`` nor ``overwrite``.
        CheckpointError: ``resume`` from a checkpoint of another model or not a training one.
        TrainingError: a non-finite loss; the weights stay at the last good step.
    """
    metrics = dict(metrics or {})
    _check_before_work(cfg, val, metrics, resume, run_dir, callbacks, control)
    folder = contextlib.nullcontext()
    if run_dir is not None:  # a no-op when the caller already holds the folder open
        folder = run_folder(run_dir, resume=resume, overwrite=overwrite)
    with folder:
        return _fit(
            model, train, cfg, loss_fn, val, metrics, batch_transform, run_dir, resume,
            model_config, progress_desc, callbacks, control,
        )  # fmt: skip


def _fit(
    model, train, cfg, loss_fn, val, metrics, batch_transform, run_dir, resume, model_config,
    progress_desc, callbacks, control,
) -> History:  # fmt: skip
    train_src = ddp.Source(train, "train")
    val_src = ddp.Source(val, "val") if val is not None else None
    info = ddp.setup(cfg.device)
    device = info.device
    dtype = resolve_precision(cfg.precision, device)
    run_dir = Path(run_dir) if run_dir is not None else None
    out_dir = run_dir if info.is_main else None  # only rank 0 writes the run's files
    listeners = tuple(callbacks) if info.is_main else ()
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
    channels_last = use_channels_last(cfg.channels_last, raw, train_src.tensors)
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
    prog, order_state, restored = ckpt.Progress(), None, None
    # loss x samples of (this epoch, this train row), summed on the device: no sync per step
    sums = torch.zeros(2, dtype=torch.float64, device=device)
    if resume:
        restored = ckpt.load_training_state(run_dir, model_config, **vars(parts))
    if restored is not None:
        prog, order_state = ckpt.Progress(**restored[1]["progress"]), restored[0]["rng/order_epoch"]
        saved_sums = restored[0].get("progress/loss_sums")
        sums.copy_(saved_sums if saved_sums is not None else torch.tensor([prog.loss_sum, 0.0]))
    kept = [r for r in read_steps(run_dir) if r["step"] <= prog.step] if restored else []
    step_log = StepLog(out_dir, kept)
    net = ddp.wrap(raw, info)
    ddp_net = net if info.active else None
    eval_net = raw
    if cfg.compile:
        net = torch.compile(net)
        eval_net = raw if info.active else net  # DDP's forward would sync ranks on uneven shares
    config = {
        "train_config": asdict(cfg),
        "model_config": model_config,
        "train_samples": train_src.n,
        "val_samples": val_src.n if val_src else 0,
        "world_size": info.world_size,
        "device": str(device),
        "precision": str(dtype or torch.float32),
        "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps,
    }
    if out_dir is not None:
        log.write_config(out_dir, config)

    def where() -> dict[str, int]:  # the fields every event carries
        epoch = prog.epoch + 1 if prog.micro else max(prog.epoch, 1)
        return {"step": prog.step, "epoch": epoch, "total_steps": total_steps}

    def save() -> Path | None:
        if out_dir is None:
            return None
        meta = {"train_config": asdict(cfg), "model_config": model_config, "progress": asdict(prog)}
        path = ckpt.save_training_state(
            run_dir,
            prog.step,
            **vars(parts),
            tensors={"rng/order_epoch": order_state, "progress/loss_sums": sums},
            meta=meta,
            keep_last=cfg.keep_last,
        )
        emit(listeners, CheckpointSaved(**where(), path=path))
        return path

    eval_bs = cfg.eval_batch_size or cfg.batch_size
    flops_fn = getattr(raw, "flops_per_sample", None)

    def validate() -> dict[str, Any]:
        if parts.ema is not None:  # validate the averaged weights
            parts.ema.swap(raw)
        scores = evaluate_shares(eval_net, val_src, loss_fn, metrics, eval_bs, device, dtype, info)
        if parts.ema is not None:
            parts.ema.swap(raw)
        at = where()
        row = {"step": at["step"], "epoch": at["epoch"]}
        row.update({f"val_{k}": v for k, v in scores.items()})
        step_log.add(row)
        show(val_loss=row["val_loss"])
        emit(listeners, Evaluation(**at, row=row))
        return row

    def speed(row: dict[str, Any], seen: float, tokens: float, seconds: float) -> None:
        row["samples_per_s"] = seen / max(seconds, 1e-9)
        if tokens:
            row["tokens_per_s"] = tokens / max(seconds, 1e-9)
        if callable(flops_fn):
            value = mfu(float(flops_fn()), row["samples_per_s"], device)
            if value is not None:
                row["mfu"] = value

    def train_row() -> None:
        totals = torch.tensor([0.0, prog.row_seen, prog.row_tokens], dtype=torch.float64)
        totals = totals.to(device)
        totals[0] = sums[1]
        loss, seen, tokens = ddp.all_reduce_sum(totals, info).tolist()
        at = where()
        row = {"step": at["step"], "epoch": at["epoch"], "train_loss": loss / max(seen, 1)}
        row["lr"] = parts.optimizer.param_groups[0]["lr"]
        speed(row, seen, tokens, prog.row_seconds)
        sums[1].zero_()
        prog.row_seen, prog.row_tokens, prog.row_seconds = 0, 0, 0.0
        step_log.add(row)
        show(loss=row["train_loss"])
        emit(listeners, TrainStep(**at, row=row))

    last_saved = ckpt.latest_checkpoint(run_dir) if run_dir is not None else None
    stopped_early = stopping = False
    clock = [time.perf_counter()]

    shown: dict[str, Any] = {}  # the epoch and latest losses, shown beside the progress

    def show(**values: Any) -> None:
        shown.update(values)
        bar.set_postfix(**shown)

    def lap() -> None:  # training time since the clock started counts for the epoch and the row
        elapsed = time.perf_counter() - clock[0]
        prog.seconds += elapsed
        prog.row_seconds += elapsed

    emit(listeners, RunStart(**where(), run_dir=run_dir, config=config))
    bar = log.progress(
        total_steps, progress_desc or "train", cfg.quiet, info.rank, initial=prog.step
    )
    while prog.epoch < cfg.epochs and (cfg.max_steps is None or prog.step < cfg.max_steps):
        if prog.micro == 0:  # a new epoch (not a resumed one): remember how its order was drawn
            order_state = parts.generators["order"].get_state()
            prog.seen, prog.tokens, prog.seconds = 0, 0, 0.0
            sums[0].zero_()
        parts.generators["order"].set_state(order_state)
        show(epoch=f"{prog.epoch + 1}/{cfg.epochs}")
        order = torch.randperm(train_src.n, generator=parts.generators["order"])
        index_batches = ddp.shard(order, cfg.batch_size, info)
        net.train()
        stream = train_src.batches(index_batches[prog.micro :], device)  # one loader per epoch
        evaluated_at, at_end = -1, True
        clock[0] = time.perf_counter()
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
                channels_last=channels_last,
            )
            finite = torch.isfinite(group_loss).float()  # all ranks must agree to stop
            if ddp.all_reduce_sum(finite, info) != info.world_size:  # checked before the step
                parts.optimizer.zero_grad(set_to_none=True)
                kept_note = ""
                if last_saved and not replacing(run_dir):  # else run_folder says what is kept
                    kept_note = f"; the last good checkpoint {last_saved} is kept"
                raise TrainingError(
                    f"training loss became {group_loss.item()} at step {prog.step + 1} "
                    f"(epoch {prog.epoch + 1}); stopped before updating the weights{kept_note}"
                )
            optimizer_step(parts.optimizer, cfg.lr * factor(prog.step), cfg.grad_clip, parts.scaler)
            if parts.ema is not None:
                parts.ema.update(raw)
            sums += group_loss.double() * group_size
            prog.seen += group_size
            prog.tokens += tokens
            prog.row_seen += group_size
            prog.row_tokens += tokens
            prog.step += 1
            prog.micro = g + len(group)
            lap()
            bar.update(1)
            last_step = cfg.max_steps is not None and prog.step >= cfg.max_steps
            at_end = last_step or prog.micro >= len(index_batches)  # the epoch's end follows
            if cfg.log_every and prog.step % cfg.log_every == 0:
                train_row()
            if cfg.eval_every and prog.step % cfg.eval_every == 0 and not at_end:
                validate()
                evaluated_at = prog.step
            if cfg.checkpoint_every and prog.step % cfg.checkpoint_every == 0 and not at_end:
                last_saved = save() or last_saved
            stopping = _stop_requested(control, info)
            clock[0] = time.perf_counter()
            if stopping or last_step:
                break
        if stopping and not at_end:  # stopped mid-epoch: evaluate, checkpoint, leave
            if val_src is not None and evaluated_at != prog.step:
                validate()
            last_saved = save() or last_saved
            break
        totals = torch.tensor([0.0, prog.seen, prog.tokens], dtype=torch.float64).to(device)
        totals[0] = sums[0]
        loss_total, seen, tokens = ddp.all_reduce_sum(totals, info).tolist()
        row: dict[str, Any] = {"epoch": prog.epoch + 1, "step": prog.step}
        row["train_loss"] = loss_total / max(seen, 1)
        if val_src is not None:
            row.update({k: v for k, v in validate().items() if k.startswith("val_")})
        row["lr"] = parts.optimizer.param_groups[0]["lr"]
        speed(row, seen, tokens, prog.seconds)
        row["seconds"] = prog.seconds
        show(loss=row["train_loss"])
        prog.epoch, prog.micro = prog.epoch + 1, 0
        prog.record(row, cfg.monitor, cfg.monitor_mode)
        stopped_early = bool(cfg.early_stop_patience) and prog.bad_epochs >= cfg.early_stop_patience
        if out_dir is not None:
            log.write_rows(out_dir, prog.rows)
        emit(listeners, EpochEnd(**where(), row=row))
        last_saved = save() or last_saved
        if stopped_early or stopping:
            break
    bar.close()
    if parts.ema is not None:  # the returned model carries the averaged weights it was judged by
        parts.ema.swap(raw)
    final = prog.rows[-1] if prog.rows else None
    history = History(
        rows=prog.rows,
        steps=step_log.rows,
        best=prog.best_row or final,
        final=final,
        stopped_early=stopped_early,
        stopped=stopping,
        run_dir=run_dir,
        model=raw,
    )
    if out_dir is not None:
        log.save_curves(out_dir, history)
    ddp.barrier(info)
    emit(listeners, RunEnd(**where(), stopped=stopping, stopped_early=stopped_early, final=final))
    return history
