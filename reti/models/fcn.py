"""Fully convolutional network for series classification (Wang, Yan & Oates 2017).

notes: Convoluzioni 1D (classification). Three blocks conv -> batch norm -> ReLU with 128, 256,
128 filters of widths 8, 5, 3 ("same" padding, so every step sees both sides: not causal), then
global average pooling and a linear layer, exactly the FCN baseline whose UCR accuracies we aim
to reach (GunPoint 100, ItalyPowerDemand 96.1, ArrowHead 84.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reti.config import COUNT, check, option
from reti.errors import ConfigError
from reti.guards import check_model
from reti.models.tcn import SeriesHead, check_head

_AT_LEAST_1 = COUNT.says(">= 1")


@dataclass
class FCNConfig:
    """The FCN of Wang et al.: filters and kernel widths per block."""

    in_channels: int = option(1, "Features per time step.", _AT_LEAST_1)
    out_features: int = option(2, "Classes, or outputs per forecast step.", _AT_LEAST_1)
    task: str = option("classify", "classify or forecast (option A; it is not causal).")
    horizon: int = option(1, "Steps ahead to forecast.")
    filters: tuple[int, ...] = option((128, 256, 128), "Filters of each block.")
    kernels: tuple[int, ...] = option((8, 5, 3), "Kernel width of each block.")
    pool: str = option("mean", "How the head pools the steps: last, mean or max.")

    def __post_init__(self) -> None:
        check(self, "FCN ")


class FCN(nn.Module):
    """Conv-BN-ReLU x3, global average pooling, linear. Not causal (centred kernels).

    Shape: (B, T, in_channels) -> (B, out_features) for classify, (B, horizon, out) to forecast.
    Raises:
        ConfigError: task "sequence" (option B needs a causal model), mismatched filters/kernels.
    """

    causal = False

    def __init__(self, config: FCNConfig):
        super().__init__()
        c = config
        check_head(c.task, c.pool, c.horizon, self.causal, "fcn")
        if len(c.filters) != len(c.kernels) or not c.filters:
            raise ConfigError(
                f"FCN filters and kernels must have the same non-zero length, got "
                f"{list(c.filters)} and {list(c.kernels)}"
            )
        check_model(lambda: FCN(config), "FCN")  # its weights must fit before they are made
        self.config = config
        sizes = [c.in_channels, *c.filters]
        blocks = []
        for i, k in enumerate(c.kernels):
            blocks += [
                nn.ConstantPad1d(((k - 1) // 2, k // 2), 0.0),  # "same" length, even k too
                nn.Conv1d(sizes[i], sizes[i + 1], k, bias=False),
                nn.BatchNorm1d(sizes[i + 1]),
                nn.ReLU(),
            ]
        self.body = nn.Sequential(*blocks)
        self.head = SeriesHead(sizes[-1], c.out_features, c.task, c.horizon, c.pool)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: (B, T, C) -> (B, T, filters[-1])."""
        return self.body(x.transpose(1, 2)).transpose(1, 2)  # through (B, C, T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
