"""Temporal convolutional network (TCN) for series, and the heads every series model shares.

notes: Causal Convolution, Causal Model. Series enter as the notes write them, (B, T, C): time
steps by features. The heads are the notes' two forecasting options and a classifier:
  option A ("forecast"): pool the features H, regress the next value(s) (direct multi-horizon);
  option B ("sequence"): target Y = [x_1 ... x_n], every position predicts its next step at
    once; only a causal model may do this (a non-causal one sees the answer) and it is refused;
  "classify": mean-pool H, one linear layer to class scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reti.config import COUNT, FRACTION, check, option
from reti.errors import ConfigError
from reti.guards import check_model
from reti.layers.causal import TemporalConvNet

TASKS = ("forecast", "sequence", "classify")
POOLS = ("last", "mean", "max")
_AT_LEAST_1 = COUNT.says(">= 1")


def check_head(task: str, pool: str, horizon: int, causal: bool, model: str) -> None:
    """Validate a head's options; refuse option B for a non-causal model, saying why."""
    if task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}, got {task!r}")
    if pool not in POOLS:
        raise ConfigError(f"pool must be one of {POOLS}, got {pool!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ConfigError(f"horizon must be an int >= 1, got {horizon!r}")
    if task == "sequence" and not causal:
        raise ConfigError(
            f"task 'sequence' (forecasting option B, shifted targets) needs a causal model; "
            f"{model!r} is not causal: its output at step i sees x_(i+1), the very value it "
            "must predict, so it would learn to copy instead of forecast. Use tcn or transformer"
        )


class SeriesHead(nn.Module):
    """Turns features H (B, T, hidden) into the task's output.

    Shape: forecast -> (B, horizon, out); sequence -> (B, T, out); classify -> (B, out).
    """

    def __init__(self, hidden: int, out_features: int, task: str, horizon: int, pool: str):
        super().__init__()
        self.task, self.pool, self.horizon, self.out_features = task, pool, horizon, out_features
        width = out_features * horizon if task == "forecast" else out_features
        self.proj = nn.Linear(hidden, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.task == "sequence":
            return self.proj(h)  # (B, T, hidden) -> (B, T, out): each position's next step
        if self.task == "classify" or self.pool == "mean":
            pooled = h.mean(dim=1)  # (B, T, hidden) -> (B, hidden)
        elif self.pool == "max":
            pooled = h.amax(dim=1)
        else:
            pooled = h[:, -1]  # the last position has seen the whole window (causal models)
        out = self.proj(pooled)
        if self.task == "forecast":
            out = out.unflatten(-1, (self.horizon, self.out_features))  # -> (B, horizon, out)
        return out


@dataclass
class TCNConfig:
    """A TCN: ``levels`` residual blocks of ``channels`` filters, dilations 1, 2, 4, ..."""

    in_channels: int = option(1, "Features per time step.", _AT_LEAST_1)
    out_features: int = option(1, "Outputs per forecast step, or classes.", _AT_LEAST_1)
    task: str = option("forecast", "forecast (option A), sequence (option B) or classify.")
    horizon: int = option(1, "Steps ahead to forecast.")
    channels: int = option(64, "Filters of every level.", _AT_LEAST_1)
    levels: int = option(4, "Residual blocks, with dilations 1, 2, 4, ...", _AT_LEAST_1)
    kernel_size: int = option(3, "Kernel size of the causal convolutions.", _AT_LEAST_1)
    dropout: float = option(0.0, "Dropout probability inside the blocks.", FRACTION)
    pool: str = option("last", "How the forecast head pools the steps: last, mean or max.")

    def __post_init__(self) -> None:
        check(self, "TCN ")


class TCN(nn.Module):
    """Causal TCN (Bai, Kolter & Koltun 2018) with a head for forecasting or classification.

    ``receptive_field`` = 1 + 2 (k - 1) (2^levels - 1) steps: a window shorter than it leaves
    the first outputs looking at zero padding.

    Shape: (B, T, in_channels) -> see ``SeriesHead``.
    """

    causal = True

    def __init__(self, config: TCNConfig):
        super().__init__()
        c = config
        check_head(c.task, c.pool, c.horizon, self.causal, "tcn")
        check_model(lambda: TCN(config), "TCN")  # its weights must fit before they are made
        self.config = config
        self.body = TemporalConvNet(
            c.in_channels, [c.channels] * c.levels, c.kernel_size, c.dropout
        )
        self.head = SeriesHead(c.channels, c.out_features, c.task, c.horizon, c.pool)

    @property
    def receptive_field(self) -> int:
        return self.body.receptive_field

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """H of the notes. Shape: (B, T, C) -> (B, T, channels)."""
        h = self.body(x.transpose(1, 2))  # (B, T, C) -> (B, C, T) -> (B, channels, T)
        return h.transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
