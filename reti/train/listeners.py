"""The trainer's own listeners: everything ``fit`` does besides stepping, each on the events the
loop emits (``reti.train.events`` plus the per-step ``StepEnd``).

Recorders hear an event before the caller's listeners do: ``ProgressBar`` (the bar or lines),
``RunFiles`` (the one writer of the run folder: config.json, steps.*, metrics.*, curves.png)
and ``EarlyStop``. Schedulers hear it after them and act on it: ``TrainRows`` (a train row every
``log_every`` steps), ``EvalSchedule`` (a validation pass every ``eval_every`` steps) and
``Checkpoints`` (every ``checkpoint_every`` steps and at each epoch's end). A scheduler's own
event (a row, an evaluation, a checkpoint) reaches every listener before the next scheduler
runs, so the order is always: train row, evaluation, epoch row, checkpoint.
"""

from __future__ import annotations

from typing import Any

from reti.train import log
from reti.train.events import EpochEnd, Evaluation, Event, RunEnd, RunStart, TrainStep
from reti.train.history import History
from reti.train.run import Run, StepEnd
from reti.train.steps import StepLog, read_steps


class ProgressBar:
    """The run's progress (``reti.train.progress``): one tick per step, the epoch and the
    latest losses beside it; nothing when quiet or off rank 0."""

    def __init__(self, run: Run, desc: str | None):
        self.run, self.desc, self.bar = run, desc or "train", None
        self.shown: dict[str, Any] = {}
        self.epoch: int | None = None  # the postfix is redrawn when it changes, not every step

    def show(self, **values: Any) -> None:
        self.shown.update(values)
        self.bar.set_postfix(**self.shown)

    def __call__(self, event: Event) -> None:
        cfg = self.run.cfg
        if isinstance(event, RunStart):
            rank, start = self.run.info.rank, event.step
            self.bar = log.progress(event.total_steps, self.desc, cfg.quiet, rank, initial=start)
        elif isinstance(event, StepEnd):
            if event.epoch != self.epoch:
                self.epoch = event.epoch
                self.show(epoch=f"{event.epoch}/{cfg.epochs}")
            self.bar.update(1)
        elif isinstance(event, TrainStep | EpochEnd):
            self.show(loss=event.row["train_loss"])
        elif isinstance(event, Evaluation):
            self.show(val_loss=event.row["val_loss"])
        elif isinstance(event, RunEnd):
            self.bar.close()


class RunFiles:
    """The one writer of the run folder (rank 0; the rows are kept in memory on every rank):
    config.json at the start, each step row as it comes, the epoch rows after each epoch, the
    curves at the end. A resumed run keeps the step rows up to its checkpoint's step."""

    def __init__(self, run: Run, resumed: bool):
        self.run = run
        kept = read_steps(run.opts.run_dir) if resumed else []
        self.steps = StepLog(run.out_dir, [r for r in kept if r["step"] <= run.prog.step])
        run.step_rows = self.steps.rows

    def __call__(self, event: Event) -> None:
        out = self.run.out_dir
        if isinstance(event, TrainStep | Evaluation):
            self.steps.add(event.row)
        if out is None:
            return
        if isinstance(event, RunStart):
            log.write_config(out, event.config)
        elif isinstance(event, EpochEnd):
            log.write_rows(out, self.run.prog.rows)
        elif isinstance(event, RunEnd):
            log.save_curves(out, History(rows=self.run.prog.rows, steps=self.steps.rows))


class EarlyStop:
    """Stop after ``early_stop_patience`` epochs without a better monitored value."""

    def __init__(self, run: Run):
        self.run = run

    def __call__(self, event: Event) -> None:
        patience = self.run.cfg.early_stop_patience
        if isinstance(event, EpochEnd) and patience:
            self.run.stopped_early = self.run.prog.bad_epochs >= patience


class TrainRows:
    """A train row every ``log_every`` steps."""

    def __init__(self, run: Run):
        self.run = run

    def __call__(self, event: Event) -> None:
        every = self.run.cfg.log_every
        if isinstance(event, StepEnd) and every and event.step % every == 0:
            self.run.train_row()


class EvalSchedule:
    """A validation pass every ``eval_every`` steps (the epoch's end has its own)."""

    def __init__(self, run: Run):
        self.run = run

    def __call__(self, event: Event) -> None:
        every = self.run.cfg.eval_every
        if isinstance(event, StepEnd) and every and event.step % every == 0 and not event.at_end:
            self.run.validate()


class Checkpoints:
    """A checkpoint every ``checkpoint_every`` steps and after every epoch; the one that
    completes the run is ``final`` (the run's ``finish`` step runs before it)."""

    def __init__(self, run: Run):
        self.run = run

    def __call__(self, event: Event) -> None:
        run, every = self.run, self.run.cfg.checkpoint_every
        if isinstance(event, StepEnd) and every and event.step % every == 0 and not event.at_end:
            run.save()
        elif isinstance(event, EpochEnd):
            run.save(final=run.completes())


def attach(run: Run, desc: str | None, resumed: bool) -> None:
    """Give ``run`` the trainer's listeners, in the order the module notes give."""
    recorders = (ProgressBar(run, desc), RunFiles(run, resumed), EarlyStop(run))
    run.listeners = (recorders, (TrainRows(run), EvalSchedule(run), Checkpoints(run)))
