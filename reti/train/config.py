"""``TrainConfig``: every knob of a training run, checked when it is made (before any work).

Each field carries its help and its rule (``reti.config.option``); ``reti.config.check`` reads
them, ``reti.config.field_help`` gives the CLI its flag help."""

from __future__ import annotations

from dataclasses import dataclass

from reti.config import (
    BOOL,
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIONAL_BOOL,
    OPTIONAL_COUNT,
    POSITIVE,
    Rule,
    check,
    interval,
    one_of,
    option,
)
from reti.errors import ConfigError
from reti.runtime import PRECISIONS
from reti.train.optim import OPTIMIZERS, SCHEDULES

_MONITOR = Rule(
    lambda v: isinstance(v, str) and (v == "train_loss" or v.startswith("val_")),
    "'train_loss', 'val_loss' or 'val_<metric>'",
)


@dataclass
class TrainConfig:
    """Every knob of a training run; ``asdict`` of it goes into each checkpoint."""

    epochs: int = option(1, "Passes over the training data.", COUNT)
    max_steps: int | None = option(
        None, "Stop after this many optimizer steps (None: no limit).", OPTIONAL_COUNT
    )
    batch_size: int = option(64, "Samples per micro-batch on each process.", COUNT)
    eval_batch_size: int | None = option(
        None,
        "Samples per batch when evaluating (None: the training batch size).",
        OPTIONAL_COUNT,
    )
    lr: float = option(1e-3, "Peak learning rate, scaled by the schedule at each step.", POSITIVE)
    optimizer: str = option(
        "adamw",
        f"Optimizer: one of {', '.join(OPTIMIZERS)}. muon orthogonalises the updates of the "
        "hidden matrices and conv kernels (AdamW for embeddings, gains, biases and the output "
        "layer): fewer steps to a given loss, most where the model is made of matrices (GPT).",
        one_of(OPTIMIZERS),
    )
    weight_decay: float = option(
        0.0,
        "Decoupled weight decay, on weight matrices and conv kernels only.",
        NON_NEGATIVE,
    )
    momentum: float = option(
        0.9, "SGD momentum (AdamW ignores it; Muon uses its own 0.95).", FRACTION
    )
    nesterov: bool = option(False, "Use Nesterov momentum with SGD.", BOOL)
    schedule: str = option(
        "constant",
        f"Learning-rate schedule over the run: one of {', '.join(SCHEDULES)}.",
        one_of(SCHEDULES),
    )
    warmup_steps: int = option(
        0, "Steps of linear learning-rate warmup at the start.", NON_NEGATIVE_INT
    )
    grad_clip: float | None = option(
        None,
        "Clip the gradients' global norm to this value (None: no clipping).",
        POSITIVE.or_none().says("None or a number > 0"),
    )
    accumulate: int = option(1, "Micro-batches whose gradients are summed before each step.", COUNT)
    precision: str = option(
        "auto",
        "Autocast precision: auto (bf16 on capable GPUs, fp32 on CPU), fp32, bf16, fp16.",
        one_of(PRECISIONS),
    )
    compile: bool = option(False, "Compile the model with torch.compile before training.", BOOL)
    channels_last: bool | None = option(
        None,
        "Keep image tensors in channels-last memory layout; None (auto): on when the model has a "
        "2D convolution and the inputs are images (oneDNN's CPU convolutions and GPU tensor "
        "cores run faster in it; bench/train_overhead.py measures it on your machine).",
        OPTIONAL_BOOL,
    )
    keep_cpu_memory: bool = option(
        True,
        "Let the allocator keep freed CPU memory for the next step (glibc only).",
        BOOL,
    )
    early_stop_patience: int | None = option(
        None,
        "Stop after this many epochs without a better monitored value (None: never).",
        OPTIONAL_COUNT,
    )
    monitor: str = option(
        "val_loss", "The row value that picks the best epoch and early stopping.", _MONITOR
    )
    monitor_mode: str = option(
        "min",
        "Whether the monitored value is better when min or max.",
        one_of(("min", "max"), "'min' or 'max'"),
    )
    ema_decay: float | None = option(
        None,
        "Keep an exponential moving average of the weights with this decay (None: off).",
        interval(0, 1, "()").or_none(),
    )
    log_every: int | None = option(
        None,
        "Write a train row (loss, learning rate, speed) every this many steps.",
        OPTIONAL_COUNT,
    )
    eval_every: int | None = option(
        None,
        "Evaluate the validation set every this many steps (and at each epoch's end).",
        OPTIONAL_COUNT,
    )
    checkpoint_every: int | None = option(
        None,
        "Save a checkpoint every this many steps (one is always saved each epoch).",
        OPTIONAL_COUNT,
    )
    keep_last: int = option(2, "How many of the newest checkpoints to keep.", COUNT)
    seed: int = option(
        0, "Seed of every random draw of the run (order, augmentation, dropout).", NON_NEGATIVE_INT
    )
    device: str = option("auto", "Where to train: auto (cuda, then mps, then cpu), cpu, cuda, mps.")
    quiet: bool = option(False, "Print no progress.", BOOL)

    def __post_init__(self) -> None:
        check(self)
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov must be False when momentum is 0, got True")
