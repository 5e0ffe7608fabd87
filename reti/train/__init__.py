"""reti.train: one trainer for every pipeline (``fit``), evaluation and checkpoint loading."""

from reti.train.checkpoint import latest_checkpoint, load_weights
from reti.train.loop import History, TrainConfig, evaluate, fit

__all__ = ["History", "TrainConfig", "evaluate", "fit", "latest_checkpoint", "load_weights"]
