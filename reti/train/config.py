"""``TrainConfig``: every knob of a training run, checked when it is made (before any work)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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
    "channels_last": _BOOL,
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
    keep_cpu_memory: bool = True
    early_stop_patience: int | None = None
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    ema_decay: float | None = None
    log_every: int | None = None
    eval_every: int | None = None
    checkpoint_every: int | None = None
    keep_last: int = 2
    seed: int = 0
    device: str = "auto"
    quiet: bool = False

    def __post_init__(self) -> None:
        for name, (ok, allowed) in _RULES.items():
            if not ok(getattr(self, name)):
                raise ConfigError(f"{name} must be {allowed}, got {getattr(self, name)!r}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov must be False when momentum is 0, got True")
