"""``TrainConfig``: every knob of a training run, checked when it is made (before any work)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from reti.errors import ConfigError
from reti.runtime import PRECISIONS
from reti.train.optim import OPTIMIZERS, SCHEDULES


def _int(v: Any, low: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _num(v: Any) -> bool:
    return _int(v, -(2**63)) or (isinstance(v, float) and math.isfinite(v))


_COUNT = (_int, "an integer >= 1")
_OPTIONAL_COUNT = (lambda v: v is None or _int(v), "None or an integer >= 1")
_BOOL = (lambda v: isinstance(v, bool), "True or False")
# field -> (check, what is allowed); TrainConfig.__post_init__ walks it top to bottom.
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "epochs": _COUNT,
    "max_steps": _OPTIONAL_COUNT,
    "batch_size": _COUNT,
    "eval_batch_size": _OPTIONAL_COUNT,
    "lr": (lambda v: _num(v) and v > 0, "a finite number > 0"),
    "optimizer": (lambda v: v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
    "weight_decay": (lambda v: _num(v) and v >= 0, "a number >= 0"),
    "momentum": (lambda v: _num(v) and 0 <= v < 1, "in [0, 1)"),
    "nesterov": _BOOL,
    "schedule": (lambda v: v in SCHEDULES, f"one of {', '.join(SCHEDULES)}"),
    "warmup_steps": (lambda v: _int(v, 0), "an integer >= 0"),
    "grad_clip": (lambda v: v is None or (_num(v) and v > 0), "None or a number > 0"),
    "accumulate": _COUNT,
    "precision": (lambda v: v in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
    "compile": _BOOL,
    "channels_last": (lambda v: v is None or isinstance(v, bool), "None, True or False"),
    "keep_cpu_memory": _BOOL,
    "early_stop_patience": _OPTIONAL_COUNT,
    "monitor": (
        lambda v: isinstance(v, str) and (v == "train_loss" or v.startswith("val_")),
        "'train_loss', 'val_loss' or 'val_<metric>'",
    ),
    "monitor_mode": (lambda v: v in ("min", "max"), "'min' or 'max'"),
    "ema_decay": (lambda v: v is None or (_num(v) and 0 < v < 1), "None or in (0, 1)"),
    "log_every": _OPTIONAL_COUNT,
    "eval_every": _OPTIONAL_COUNT,
    "checkpoint_every": _OPTIONAL_COUNT,
    "keep_last": _COUNT,
    "seed": (lambda v: _int(v, 0), "an integer >= 0"),
    "quiet": _BOOL,
}


def _f(default: Any, help: str) -> Any:
    """A dataclass field with its one-sentence help (read by ``field_help`` and the CLI)."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Every knob of a training run; ``asdict`` of it goes into each checkpoint."""

    epochs: int = _f(1, "Passes over the training data.")
    max_steps: int | None = _f(None, "Stop after this many optimizer steps (None: no limit).")
    batch_size: int = _f(64, "Samples per micro-batch on each process.")
    eval_batch_size: int | None = _f(
        None, "Samples per batch when evaluating (None: the training batch size)."
    )
    lr: float = _f(1e-3, "Peak learning rate, scaled by the schedule at each step.")
    optimizer: str = _f(
        "adamw",
        f"Optimizer: one of {', '.join(OPTIMIZERS)}. muon orthogonalises the updates of the "
        "hidden matrices and conv kernels (AdamW for embeddings, gains, biases and the output "
        "layer): fewer steps to a given loss, most where the model is made of matrices (GPT).",
    )
    weight_decay: float = _f(
        0.0, "Decoupled weight decay, on weight matrices and conv kernels only."
    )
    momentum: float = _f(0.9, "SGD momentum (AdamW ignores it; Muon uses its own 0.95).")
    nesterov: bool = _f(False, "Use Nesterov momentum with SGD.")
    schedule: str = _f(
        "constant", f"Learning-rate schedule over the run: one of {', '.join(SCHEDULES)}."
    )
    warmup_steps: int = _f(0, "Steps of linear learning-rate warmup at the start.")
    grad_clip: float | None = _f(
        None, "Clip the gradients' global norm to this value (None: no clipping)."
    )
    accumulate: int = _f(1, "Micro-batches whose gradients are summed before each step.")
    precision: str = _f(
        "auto", "Autocast precision: auto (bf16 on capable GPUs, fp32 on CPU), fp32, bf16, fp16."
    )
    compile: bool = _f(False, "Compile the model with torch.compile before training.")
    channels_last: bool | None = _f(
        None,
        "Keep image tensors in channels-last memory layout; None (auto): on when the model has a "
        "2D convolution and the inputs are images (oneDNN's CPU convolutions and GPU tensor "
        "cores run faster in it; bench/train_overhead.py measures it on your machine).",
    )
    keep_cpu_memory: bool = _f(
        True, "Let the allocator keep freed CPU memory for the next step (glibc only)."
    )
    early_stop_patience: int | None = _f(
        None, "Stop after this many epochs without a better monitored value (None: never)."
    )
    monitor: str = _f("val_loss", "The row value that picks the best epoch and early stopping.")
    monitor_mode: str = _f("min", "Whether the monitored value is better when min or max.")
    ema_decay: float | None = _f(
        None, "Keep an exponential moving average of the weights with this decay (None: off)."
    )
    log_every: int | None = _f(
        None, "Write a train row (loss, learning rate, speed) every this many steps."
    )
    eval_every: int | None = _f(
        None, "Evaluate the validation set every this many steps (and at each epoch's end)."
    )
    checkpoint_every: int | None = _f(
        None, "Save a checkpoint every this many steps (one is always saved each epoch)."
    )
    keep_last: int = _f(2, "How many of the newest checkpoints to keep.")
    seed: int = _f(0, "Seed of every random draw of the run (order, augmentation, dropout).")
    device: str = _f("auto", "Where to train: auto (cuda, then mps, then cpu), cpu, cuda, mps.")
    quiet: bool = _f(False, "Print no progress.")

    def __post_init__(self) -> None:
        for name, (ok, allowed) in _RULES.items():
            if not ok(getattr(self, name)):
                raise ConfigError(f"{name} must be {allowed}, got {getattr(self, name)!r}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov must be False when momentum is 0, got True")


def field_help(config: type | object) -> dict[str, str]:
    """``{field name: its one-sentence help}`` of a config dataclass (class or instance), in
    field order; a field without help maps to ``""``.

    >>> field_help(TrainConfig)["seed"]
    'Seed of every random draw of the run (order, augmentation, dropout).'
    """
    if not is_dataclass(config):
        raise TypeError(f"field_help needs a dataclass, got {config!r}")
    return {f.name: f.metadata.get("help", "") for f in fields(config)}
