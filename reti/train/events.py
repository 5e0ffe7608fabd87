"""What ``fit`` tells its listeners: one typed event per logged row, evaluation, checkpoint, and
the start and end of a run; and ``RunControl``, the way a listener asks the run to stop.

Every consumer of a run's progress listens to the same events: the CLI's progress lines, the
metric files, the lab's live page and a notebook's bar. A listener is any callable taking one
``Event``; ``fit(..., callbacks=[...], control=RunControl())`` calls each listener in order, in
the training process (rank 0 only under torchrun), between steps. A listener must be quick:
heavy work belongs in a thread of its own fed by the event.

Stopping: ``control.request_stop()`` (from a listener, or from any other thread, e.g. a web
request) makes ``fit`` finish the step it is in, evaluate, save a checkpoint when it has a run
folder, emit ``RunEnd(stopped=True)`` and return its ``History``; ``--resume`` continues from
there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


class RunControl:
    """A thread-safe stop flag shared between a run and whoever watches it."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Ask the run to stop after its current step (idempotent, callable from any thread)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()


@dataclass(frozen=True)
class Event:
    """Common fields: the optimizer ``step`` reached (1-based count of updates done), the
    ``epoch`` in progress (1-based), and the run's ``total_steps``."""

    kind: ClassVar[str] = "event"
    step: int
    epoch: int
    total_steps: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the event (``kind`` first), e.g. for server-sent events."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = str(value) if isinstance(value, Path) else value
        return out


@dataclass(frozen=True)
class RunStart(Event):
    """Before the first step (also on resume, with the step it resumes from)."""

    kind: ClassVar[str] = "start"
    run_dir: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainStep(Event):
    """Every ``log_every`` steps: ``row`` holds step, epoch, train_loss (mean over the steps
    since the last row), lr, samples_per_s and, where it applies, tokens_per_s."""

    kind: ClassVar[str] = "train"
    row: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation(Event):
    """After a validation pass (every ``eval_every`` steps and at each epoch's end): ``row``
    holds step, epoch and val_loss plus one val_<metric> per metric."""

    kind: ClassVar[str] = "eval"
    row: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnd(Event):
    """At the end of each epoch: ``row`` is the epoch's row as written to metrics.csv."""

    kind: ClassVar[str] = "epoch"
    row: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """After a checkpoint is written atomically: ``path`` is its folder."""

    kind: ClassVar[str] = "checkpoint"
    path: Path | None = None


@dataclass(frozen=True)
class RunEnd(Event):
    """After the last step: ``stopped`` is True when a ``RunControl`` stopped the run early,
    ``stopped_early`` when early stopping did; ``final`` is the last epoch row."""

    kind: ClassVar[str] = "end"
    stopped: bool = False
    stopped_early: bool = False
    final: dict[str, Any] | None = None


Callback = Callable[[Event], None]


def emit(callbacks: Sequence[Callback], event: Event) -> None:
    """Call each listener with ``event`` in order."""
    for callback in callbacks:
        callback(event)
