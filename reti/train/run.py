"""``Run``: what one call of ``fit`` holds while it trains, and the few things it does besides a
step: tell its listeners, make a train row, an epoch row, a validation pass, a checkpoint.

The loop itself is in ``reti.train.loop``; the listeners that decide *when* to log, evaluate,
checkpoint or stop are in ``reti.train.listeners``. Everything a resumed run needs to go on
bit-identically (weights, optimizer, EMA, scaler, generators, the epoch's order, the loss sums,
``Progress``) is written by ``save``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from reti.errors import TrainingError
from reti.train import checkpoint as ckpt
from reti.train import ddp
from reti.train.config import TrainConfig
from reti.train.evaluate import evaluate_shares
from reti.train.events import CheckpointSaved, Evaluation, Event, TrainStep
from reti.train.flops import mfu
from reti.train.options import RunOptions
from reti.train.rundir import replacing


@dataclass
class Task:
    """What is learned: the data, the loss, the metrics, the batch transform (augmentation)."""

    train: ddp.Source
    val: ddp.Source | None
    loss_fn: Callable
    metrics: dict[str, Callable]
    batch_transform: Callable | None


@dataclass(frozen=True)
class StepEnd(Event):
    """After every optimizer step; heard by the trainer's own listeners only (one event per step
    would flood a web page). ``at_end``: the epoch ends with this step."""

    kind = "step"
    at_end: bool = False


class Run:
    """The live state of one run and the actions its listeners ask for."""

    def __init__(self, cfg: TrainConfig, opts: RunOptions, task: Task, info: ddp.Dist, **live):
        self.cfg, self.opts, self.task, self.info = cfg, opts, task, info
        self.device: torch.device = info.device
        self.dtype: torch.dtype | None = live["dtype"]
        self.parts: ckpt.LiveState = live["parts"]
        self.raw: nn.Module = self.parts.model
        self.eval_net: nn.Module = self.raw  # the compiled model when compiled alone
        self.model_config: dict[str, Any] | None = live["model_config"]
        self.finish: Callable[[nn.Module], None] | None = live["finish"]
        self.steps_per_epoch: int = live["steps_per_epoch"]
        self.total_steps: int = live["total_steps"]
        self.out_dir = opts.run_dir if info.is_main else None  # only rank 0 writes files
        self.prog, self.order_state = ckpt.Progress(), None
        # loss x samples of (this epoch, this train row), summed on the device: no sync per step
        self.sums = torch.zeros(2, dtype=torch.float64, device=self.device)
        self.listeners: tuple[Sequence[Callable], Sequence[Callable]] = ((), ())
        self.step_rows: list[dict[str, Any]] = []  # History.steps (RunFiles keeps them too)
        self.last_saved = ckpt.latest_checkpoint(opts.run_dir) if opts.run_dir else None
        self.stopping = self.stopped_early = self.ema_applied = False
        self.evaluated_at = -1
        self.saved_at = -1  # the step of the last checkpoint (a stop need not write it again)
        self.clock = time.perf_counter()
        self.flops_fn = getattr(self.raw, "flops_per_sample", None)

    # ------------------------------------------------------------------ events
    def where(self) -> dict[str, int]:
        """The fields every event carries (the epoch in progress, 1-based)."""
        epoch = self.prog.epoch + 1 if self.prog.micro else max(self.prog.epoch, 1)
        return {"step": self.prog.step, "epoch": epoch, "total_steps": self.total_steps}

    def emit(self, event: Event) -> None:
        """Tell the trainer's recorders, then the caller's listeners (rank 0, never
        ``StepEnd``), then the trainer's schedulers (which may emit events of their own)."""
        recorders, schedulers = self.listeners
        for listener in recorders:
            listener(event)
        if self.info.is_main and not isinstance(event, StepEnd):
            for callback in self.opts.callbacks:
                callback(event)
        for listener in schedulers:
            listener(event)

    # ------------------------------------------------------------------ a step's bookkeeping
    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop before the update when any rank's loss is not finite (the weights stay good)."""
        finite = torch.isfinite(loss).float()  # all ranks must agree to stop
        if ddp.all_reduce_sum(finite, self.info) == self.info.world_size:
            return
        self.parts.optimizer.zero_grad(set_to_none=True)
        kept = ""
        if self.last_saved and not replacing(self.opts.run_dir):  # else run_folder says it
            kept = f"; the last good checkpoint {self.last_saved} is kept"
        raise TrainingError(
            f"training loss became {loss.item()} at step {self.prog.step + 1} "
            f"(epoch {self.prog.epoch + 1}); stopped before updating the weights{kept}"
        )

    def count(self, loss: torch.Tensor, samples: int, tokens: int, micro: int) -> None:
        """One step done: its loss and samples into the sums, the clock into the seconds."""
        prog = self.prog
        self.sums += loss.double() * samples
        prog.seen, prog.tokens = prog.seen + samples, prog.tokens + tokens
        prog.row_seen, prog.row_tokens = prog.row_seen + samples, prog.row_tokens + tokens
        prog.step, prog.micro = prog.step + 1, micro
        elapsed = time.perf_counter() - self.clock
        prog.seconds += elapsed
        prog.row_seconds += elapsed

    def stop_requested(self) -> bool:
        """The control's flag, agreed by every rank (any rank asking stops all)."""
        control = self.opts.control
        if control is None:
            return False
        if not self.info.active:
            return control.stop_requested
        flag = torch.tensor(float(control.stop_requested), device=self.device)
        return ddp.all_reduce_sum(flag, self.info).item() > 0

    def completes(self) -> bool:
        """True when the epoch just finished completes the run (its epochs, ``max_steps`` or
        early stopping); a run a ``RunControl`` stopped is not complete: it may be resumed."""
        cfg, prog = self.cfg, self.prog
        at_max = cfg.max_steps is not None and prog.step >= cfg.max_steps
        return not self.stopping and (self.stopped_early or prog.epoch >= cfg.epochs or at_max)

    # ------------------------------------------------------------------ rows
    def _speed(self, row: dict[str, Any], seen: float, tokens: float, seconds: float) -> None:
        """samples/s, tokens/s and the model-FLOPs utilisation (reti.train.flops) of a row."""
        row["samples_per_s"] = seen / max(seconds, 1e-9)
        if tokens:
            row["tokens_per_s"] = tokens / max(seconds, 1e-9)
        if callable(self.flops_fn):
            value = mfu(float(self.flops_fn()), row["samples_per_s"], self.device)
            if value is not None:
                row["mfu"] = value

    def _totals(self, loss_sum: torch.Tensor, seen: int, tokens: int) -> list[float]:
        totals = torch.tensor([0.0, seen, tokens], dtype=torch.float64).to(self.device)
        totals[0] = loss_sum
        return ddp.all_reduce_sum(totals, self.info).tolist()

    def train_row(self) -> None:
        """The mean loss since the last train row, the learning rate, the speed: a TrainStep."""
        prog = self.prog
        loss, seen, tokens = self._totals(self.sums[1], prog.row_seen, prog.row_tokens)
        at = self.where()
        row = {"step": at["step"], "epoch": at["epoch"], "train_loss": loss / max(seen, 1)}
        row["lr"] = self.parts.optimizer.param_groups[0]["lr"]
        self._speed(row, seen, tokens, prog.row_seconds)
        self.sums[1].zero_()
        prog.row_seen, prog.row_tokens, prog.row_seconds = 0, 0, 0.0
        self.emit(TrainStep(**at, row=row))

    def validate(self) -> dict[str, Any]:
        """A validation pass (of the EMA weights when there are some): an Evaluation."""
        ema, task = self.parts.ema, self.task
        bs = self.cfg.eval_batch_size or self.cfg.batch_size
        if ema is not None:
            ema.swap(self.raw)
        scores = evaluate_shares(
            self.eval_net, task.val, task.loss_fn, task.metrics, bs, self.device, self.dtype,
            self.info,
        )  # fmt: skip
        if ema is not None:
            ema.swap(self.raw)
        at = self.where()
        row = {"step": at["step"], "epoch": at["epoch"]}
        row.update({f"val_{k}": v for k, v in scores.items()})
        self.evaluated_at = self.prog.step
        self.emit(Evaluation(**at, row=row))
        return row

    def epoch_row(self) -> dict[str, Any]:
        """The epoch's row: mean train loss, validation scores, lr, speed, seconds."""
        prog = self.prog
        loss_total, seen, tokens = self._totals(self.sums[0], prog.seen, prog.tokens)
        row: dict[str, Any] = {"epoch": prog.epoch + 1, "step": prog.step}
        row["train_loss"] = loss_total / max(seen, 1)
        if self.task.val is not None:
            row.update({k: v for k, v in self.validate().items() if k.startswith("val_")})
        row["lr"] = self.parts.optimizer.param_groups[0]["lr"]
        self._speed(row, seen, tokens, prog.seconds)
        row["seconds"] = prog.seconds
        prog.epoch, prog.micro = prog.epoch + 1, 0
        prog.record(row, self.cfg.monitor, self.cfg.monitor_mode)
        return row

    # ------------------------------------------------------------------ checkpoints
    def restore(self) -> bool:
        """Load the run folder's latest checkpoint into the live state; False if it has none."""
        restored = ckpt.load_training_state(
            self.opts.run_dir, self.model_config, **vars(self.parts)
        )
        if restored is None:
            return False
        tensors, meta = restored
        self.prog = ckpt.Progress(**meta["progress"])
        self.order_state = tensors["rng/order_epoch"]
        saved = tensors.get("progress/loss_sums")
        self.sums.copy_(saved if saved is not None else torch.tensor([self.prog.loss_sum, 0.0]))
        return True

    def save(self, final: bool = False) -> None:
        """A checkpoint (rank 0, with a run folder) and its CheckpointSaved. ``final``: the run
        is complete, so the ``finish`` step (e.g. BN population statistics) runs first, on the
        weights the run is judged by (the EMA's when there is one, saved as the weights). A
        stopped run skips it: its checkpoint must resume to exactly one run's weights."""
        ema = self.parts.ema
        self.saved_at = self.prog.step
        if final and self.finish is not None:
            if ema is not None:
                ema.swap(self.raw)
                self.ema_applied, ema = True, None
            self.finish(self.raw)
        if self.out_dir is None:
            return
        meta = {
            "train_config": asdict(self.cfg),
            "model_config": self.model_config,
            "progress": asdict(self.prog),
        }
        path = ckpt.save_training_state(
            self.out_dir,
            self.prog.step,
            **{**vars(self.parts), "ema": ema},
            tensors={"rng/order_epoch": self.order_state, "progress/loss_sums": self.sums},
            meta=meta,
            keep_last=self.cfg.keep_last,
        )
        self.last_saved = path
        self.emit(CheckpointSaved(**self.where(), path=path))

    def config(self) -> dict[str, Any]:
        """The resolved configuration written to config.json."""
        task = self.task
        return {
            "train_config": asdict(self.cfg),
            "model_config": self.model_config,
            "train_samples": task.train.n,
            "val_samples": task.val.n if task.val else 0,
            "world_size": self.info.world_size,
            "device": str(self.device),
            "precision": str(self.dtype or torch.float32),
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
        }
