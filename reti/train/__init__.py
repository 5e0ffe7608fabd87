"""reti.train: one trainer for every pipeline (``fit``), its events, evaluation and checkpoints."""

from reti.train.checkpoint import latest_checkpoint, load_weights
from reti.train.events import (
    Callback,
    CheckpointSaved,
    EpochEnd,
    Evaluation,
    Event,
    RunControl,
    RunEnd,
    RunStart,
    TrainStep,
)
from reti.train.history import History
from reti.train.loop import TrainConfig, evaluate, fit
from reti.train.options import RunOptions
from reti.train.rundir import run_folder

__all__ = [
    "Callback",
    "CheckpointSaved",
    "EpochEnd",
    "Evaluation",
    "Event",
    "History",
    "RunControl",
    "RunEnd",
    "RunOptions",
    "RunStart",
    "TrainConfig",
    "TrainStep",
    "evaluate",
    "fit",
    "latest_checkpoint",
    "load_weights",
    "run_folder",
]
